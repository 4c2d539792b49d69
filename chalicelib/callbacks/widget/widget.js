/*
 * Switchboard "call me back" widget. Plain JavaScript, no build step, no dependencies.
 *
 *   <script src="https://API/callbacks/widget.js" data-queue="support" async></script>
 *
 * data-queue     queue that calls back (or data-topics="billing:Billing,tech:Technical help",
 *                topics the hotline maps to queues: a select is shown)
 * data-hotline   hotline number (default: the API's CALLBACK_DEFAULT_HOTLINE)
 * data-language  en-US or zh-CN (default: the browser's language)
 * data-target    CSS selector of a container (default: right after this script tag)
 * data-id        show one request's status with a cancel button instead of the form
 *
 * The form lives in a shadow root so the page's styles and ours do not mix. It posts a
 * urlencoded form (a "simple" CORS request: no preflight) to the API this script came from.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) { return; }
  var API = script.src.replace(/\/callbacks\/widget\.js(?:[?#].*)?$/, "");
  var data = script.dataset;
  var LANG = data.language === "zh-CN" || data.language === "en-US" ? data.language
    : ((navigator.language || "").toLowerCase().indexOf("zh") === 0 ? "zh-CN" : "en-US");

  var TEXTS = {
    "en-US": {
      title: "Call me back", name: "Your name", phone: "Phone number", topic: "Topic",
      when: "When", asap: "As soon as possible", later: "At a time I choose",
      submit: "Call me back", sending: "Sending…",
      confirmed: "Thank you! We will call you back.",
      soon: "We will call you as soon as an agent is free.",
      wait: function (m) { return "Estimated wait: about " + m + " minute" + (m === 1 ? "" : "s") + "."; },
      position: function (p) { return "You are number " + p + " in line."; },
      scheduled: function (t) { return "We will call you on " + t + "."; },
      sms: "We have sent you a text: reply CANCEL CALL to cancel.",
      cancel: "Cancel the callback", cancelled: "Your callback is cancelled.",
      status: { scheduled: "Scheduled", queued: "Waiting in line", dialing: "Calling you now",
                connected: "Connected", completed: "Completed", failed: "We could not reach you",
                cancelled: "Cancelled" },
      errors: {
        missing: "Please fill this in.", invalid: "This is not a valid phone number.",
        premium_rate: "Premium-rate numbers cannot be called back.",
        shared_cost: "Shared-cost numbers cannot be called back.",
        short_code: "Enter a full phone number, not a short code.",
        country_not_allowed: "We cannot call numbers in that country.",
        not_dialable: "We cannot call this kind of number; use a landline or mobile.",
        extension: "We cannot dial extensions: enter a direct number.",
        extra_text: "Enter only the phone number.",
        opted_out: "This number asked us not to contact it.",
        do_not_call: "This number is on our do-not-call list.",
        closed: "We are closed at that time; choose another.",
        past: "That time has passed.", too_far: "Choose a time within the next two weeks.",
        malformed: "Please check this value.", too_long: "This is too long.",
        unknown_topic: "Choose a topic from the list.",
        already_requested: "You have already asked for a callback; we will call you.",
        already_in_line: "This number is waiting in line on a call: stay on the line.",
        rate_limited: "Too many requests. Please try again later.",
        origin_not_allowed: "This page may not request callbacks.",
        not_found: "We cannot find this callback request.",
        not_cancellable: "It is too late to cancel this callback.",
        network: "We could not reach the server. Please try again."
      }
    },
    "zh-CN": {
      title: "请给我回电", name: "您的姓名", phone: "电话号码", topic: "咨询类别",
      when: "回电时间", asap: "尽快", later: "指定时间",
      submit: "请给我回电", sending: "正在提交…",
      confirmed: "谢谢！我们会给您回电。",
      soon: "客服有空后我们会尽快给您回电。",
      wait: function (m) { return "预计等待约 " + m + " 分钟。"; },
      position: function (p) { return "您前面还有 " + (p - 1) + " 位。"; },
      scheduled: function (t) { return "我们将在 " + t + " 给您回电。"; },
      sms: "确认短信已发送：回复“取消回电”即可取消。",
      cancel: "取消回电", cancelled: "您的回电已取消。",
      status: { scheduled: "已预约", queued: "排队中", dialing: "正在给您打电话",
                connected: "已接通", completed: "已完成", failed: "未能联系到您",
                cancelled: "已取消" },
      errors: {
        missing: "请填写此项。", invalid: "电话号码无效。",
        premium_rate: "无法回拨付费号码。", shared_cost: "无法回拨分摊费用号码。",
        short_code: "请输入完整的电话号码，不要输入短号。",
        country_not_allowed: "我们无法拨打该国家或地区的号码。",
        not_dialable: "无法拨打此类号码，请使用固定电话或手机号码。",
        extension: "无法拨打分机号，请输入直拨号码。",
        extra_text: "请只输入电话号码。",
        opted_out: "该号码已选择不接收我们的联系。",
        do_not_call: "该号码在我们的免打扰名单上。",
        closed: "该时间不在服务时间内，请另选时间。",
        past: "该时间已过。", too_far: "请选择两周内的时间。",
        malformed: "请检查此项。", too_long: "内容过长。",
        unknown_topic: "请从列表中选择类别。",
        already_requested: "您已申请过回电，我们会给您回电。",
        already_in_line: "该号码正在电话排队中，请不要挂机。",
        rate_limited: "请求过于频繁，请稍后再试。",
        origin_not_allowed: "此页面无权申请回电。",
        not_found: "找不到该回电申请。",
        not_cancellable: "该回电已无法取消。",
        network: "无法连接服务器，请稍后再试。"
      }
    }
  };
  var T = TEXTS[LANG];

  var STYLE = [
    ":host { all: initial; display: block; font: 15px/1.4 system-ui, sans-serif; color: #1d2330; }",
    ".box { background: #fff; border: 1px solid #d8dce3; border-radius: 8px; padding: 1rem; max-width: 26rem; }",
    "h2 { font-size: 1.1rem; margin: 0 0 .75rem; }",
    "label { display: block; margin: .6rem 0 .2rem; font-weight: 600; }",
    "input, select { box-sizing: border-box; width: 100%; padding: .45rem; font: inherit; border: 1px solid #b9bfca; border-radius: 4px; }",
    ".when label { display: inline; font-weight: normal; margin-right: 1rem; }",
    ".when input[type=radio] { width: auto; }",
    "button { margin-top: 1rem; padding: .55rem 1rem; font: inherit; font-weight: 600; border: 0; border-radius: 4px; background: #1f6feb; color: #fff; cursor: pointer; }",
    "button[disabled] { opacity: .6; cursor: default; }",
    ".error { color: #b42318; font-size: .85rem; margin: .2rem 0 0; min-height: 0; }",
    "[aria-invalid=true] { border-color: #b42318; }",
    ".done p { margin: .4rem 0; }"
  ].join("\n");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function mount() {
    var host = el("div", { "class": "switchboard-callback" });
    var target = data.target ? document.querySelector(data.target) : null;
    if (target) {
      target.appendChild(host);
    } else if (script.parentNode && script.parentNode !== document.head) {
      script.parentNode.insertBefore(host, script.nextSibling);
    } else {
      document.body.appendChild(host);  // a script tag in <head>: the form goes in the page
    }
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    root.appendChild(el("style", { text: STYLE }));
    var box = el("div", { "class": "box", lang: LANG === "zh-CN" ? "zh-Hans" : "en", part: "box" });
    root.appendChild(box);
    return box;
  }

  function formatTime(iso) {
    var options = { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
    return new Date(iso).toLocaleString(LANG, options);
  }

  function errorText(body) {
    return T.errors[body && body.error] || (body && body.message) || T.errors.network;
  }

  function field(name, label, input) {
    input.id = "sb-" + name;
    input.name = name;
    return el("div", { "class": "field", "data-field": name }, [
      el("label", { "for": input.id, text: label }), input,
      el("p", { "class": "error", id: "sb-" + name + "-error", role: "alert", "data-error-for": name })
    ]);
  }

  function topicsOf(spec) {
    return (spec || "").split(",").map(function (pair) {
      var parts = pair.split(":");
      return { value: parts[0].trim(), label: (parts[1] || parts[0]).trim() };
    }).filter(function (topic) { return topic.value; });
  }

  function renderForm(box) {
    var form = el("form", { novalidate: "" });
    var phone = el("input", { type: "tel", autocomplete: "tel", required: "", maxlength: "40" });
    var name = el("input", { type: "text", autocomplete: "name", maxlength: "80" });
    var asap = el("input", { type: "radio", name: "when", value: "asap", id: "sb-asap", checked: "" });
    var later = el("input", { type: "radio", name: "when", value: "later", id: "sb-later" });
    var time = el("input", { type: "datetime-local", hidden: "" });
    var topics = topicsOf(data.topics);
    var topic = null;
    if (topics.length) {
      topic = el("select", {}, topics.map(function (t) { return el("option", { value: t.value, text: t.label }); }));
    }
    var whenBox = el("div", { "class": "field when", "data-field": "preferred_time" }, [
      el("span", { text: T.when }), el("br"),
      asap, el("label", { "for": "sb-asap", text: T.asap }),
      later, el("label", { "for": "sb-later", text: T.later }),
      time,
      el("p", { "class": "error", role: "alert", "data-error-for": "preferred_time" })
    ]);
    time.name = "preferred_time";
    time.id = "sb-preferred_time";
    var button = el("button", { type: "submit", text: T.submit });
    var general = el("p", { "class": "error", role: "alert", "data-error-for": "form" });
    box.appendChild(el("h2", { text: T.title }));
    form.appendChild(field("name", T.name, name));
    form.appendChild(field("phone", T.phone, phone));
    if (topic) { form.appendChild(field("topic", T.topic, topic)); }
    form.appendChild(whenBox);
    form.appendChild(button);
    form.appendChild(general);
    box.appendChild(form);

    function toggle() { time.hidden = !later.checked; }
    asap.addEventListener("change", toggle);
    later.addEventListener("change", toggle);

    function clearErrors() {
      Array.prototype.forEach.call(form.querySelectorAll("[data-error-for]"), function (p) { p.textContent = ""; });
      Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (i) { i.removeAttribute("aria-invalid"); });
    }

    function showError(fieldName, text) {
      var slot = form.querySelector('[data-error-for="' + fieldName + '"]') || general;
      slot.textContent = text;
      var input = form.querySelector('[name="' + fieldName + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      if (!phone.value.trim()) { showError("phone", T.errors.missing); return; }
      var params = new URLSearchParams();
      params.set("phone", phone.value);
      if (name.value.trim()) { params.set("name", name.value); }
      if (data.queue) { params.set("queue", data.queue); }
      if (topic) { params.set("topic", topic.value); }
      if (data.hotline) { params.set("hotline", data.hotline); }
      params.set("language", LANG);
      if (later.checked) {
        if (!time.value) { showError("preferred_time", T.errors.missing); return; }
        params.set("preferred_time", new Date(time.value).toISOString());
      } else {
        params.set("preferred_time", "asap");
      }
      button.disabled = true;
      button.textContent = T.sending;
      fetch(API + "/callbacks", { method: "POST", body: params, credentials: "omit" })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            return { status: response.status, body: body };
          });
        })
        .then(function (result) {
          button.disabled = false;
          button.textContent = T.submit;
          if (result.status === 202) { renderConfirmation(box, result.body); return; }
          if (result.status === 409 && result.body.id) {
            showError("form", errorText(result.body));
            return;
          }
          showError(result.body.field || "form", errorText(result.body));
        })
        .catch(function () {
          button.disabled = false;
          button.textContent = T.submit;
          showError("form", T.errors.network);
        });
    });
  }

  function describe(body) {
    var lines = [];
    if (body.status === "scheduled" && body.scheduled_for) {
      lines.push(T.scheduled(formatTime(body.scheduled_for)));
    } else if (body.status === "queued") {
      if (body.position) { lines.push(T.position(body.position)); }
      lines.push(body.estimated_wait_seconds
        ? T.wait(Math.max(1, Math.round(body.estimated_wait_seconds / 60))) : T.soon);
    } else if (T.status[body.status]) {
      lines.push(T.status[body.status]);
    }
    return lines;
  }

  function renderConfirmation(box, body) {
    box.textContent = "";
    var done = el("div", { "class": "done", role: "status", "data-callback-id": body.id,
                           "data-status": body.status }, [el("h2", { text: T.confirmed })]);
    describe(body).forEach(function (line) { done.appendChild(el("p", { "class": "estimate", text: line })); });
    done.appendChild(el("p", { text: T.sms }));
    done.appendChild(cancelButton(box, body.id));
    box.appendChild(done);
  }

  function renderStatus(box, body) {
    box.textContent = "";
    var view = el("div", { "class": "done", role: "status", "data-callback-id": body.id,
                           "data-status": body.status }, [
      el("h2", { text: T.status[body.status] || body.status })
    ]);
    describe(body).forEach(function (line) { view.appendChild(el("p", { "class": "estimate", text: line })); });
    if (["scheduled", "queued", "dialing"].indexOf(body.status) >= 0) {
      view.appendChild(cancelButton(box, body.id));
    }
    box.appendChild(view);
  }

  function cancelButton(box, id) {
    var wrap = el("div");
    var button = el("button", { type: "button", "class": "cancel", text: T.cancel });
    var error = el("p", { "class": "error", role: "alert" });
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch(API + "/callbacks/" + encodeURIComponent(id), { method: "DELETE", credentials: "omit" })
        .then(function (response) { return response.json().then(function (b) { return { status: response.status, body: b }; }); })
        .then(function (result) {
          if (result.status === 200) {
            box.textContent = "";
            box.appendChild(el("div", { "class": "done", role: "status", "data-status": "cancelled" },
                               [el("h2", { text: T.cancelled })]));
            return;
          }
          button.disabled = false;
          error.textContent = errorText(result.body);
        })
        .catch(function () { button.disabled = false; error.textContent = T.errors.network; });
    });
    wrap.appendChild(button);
    wrap.appendChild(error);
    return wrap;
  }

  function start() {
    var box = mount();
    if (data.id) {
      fetch(API + "/callbacks/" + encodeURIComponent(data.id), { credentials: "omit", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json().then(function (b) { return { status: response.status, body: b }; }); })
        .then(function (result) {
          if (result.status === 200) { renderStatus(box, result.body); return; }
          box.appendChild(el("p", { "class": "error", role: "alert", text: errorText(result.body) }));
        })
        .catch(function () { box.appendChild(el("p", { "class": "error", role: "alert", text: T.errors.network })); });
      return;
    }
    renderForm(box);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
