/* The agent desk (issue 13): the agent's state, the offer and screen pop, call controls, the
   browser softphone, wrap-up, preview-campaign offers and the agent's day.

   Live by polling while the tab is visible (every POLL_MS): GET /agents/{id} for the state,
   and GET /agents/{id}/context while a call is offered, talked or wrapped up (the screen pop,
   the hold or consult state, the queue's disposition codes); the seats every other round,
   the day's figures every TODAY_MS. Session.api retries reads while the network is down; the
   shell shows the offline banner and the desk polls again when the API is reachable.

   The softphone (window.Softphone, softphone.js) is only for agents whose endpoint kind is
   `client`; it registers with a token from POST /agents/{id}/voice-token, renewed before it
   runs out. An answer refused with 409 (another tab of the same agent answered first) says
   so. The body's data-* attributes (agent-state, phone, call) tell tests what is shown. */
(function () {
  "use strict";
  var POLL_MS = 2000;
  var TODAY_MS = 30000;
  var RENEW_MARGIN_S = 120;  // ask for a new voice token this long before it runs out
  var CALL_STATES = ["reserved", "on-call", "wrap-up"];
  var t = Session.t;

  var agentId = null;
  var agent = null;        // GET /agents/{id}
  var context = null;      // GET /agents/{id}/context, or null
  var wrap = null;         // the call to wrap up: {call_sid, dispositions, saved}
  var seats = [];
  var phone = null;        // the Softphone object
  var line = {status: "none", incoming: null, active: false, muted: false,
              answering: false, elsewhere: false};
  var polling = false;
  var rounds = 0;
  var drawn = {pop: "", seats: "", today: ""};

  function $(id) { return document.getElementById(id); }
  function fmt(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined ? "" : values[key];
    });
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "–";
    seconds = Math.max(0, Math.round(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h ? h + ":" : "") + mm + ":" + ss;
  }
  function when(iso) {
    if (!iso) return "–";
    var date = new Date(iso);
    return isNaN(date) ? iso : date.toLocaleString(Session.locale, {dateStyle: "short", timeStyle: "short"});
  }
  function base() { return "/agents/" + encodeURIComponent(agentId); }
  var sayTimer = null;
  function say(text, bad) {  // a done action's line goes after a while; an error stays
    var status = $("status");
    status.textContent = text || "";
    status.classList.toggle("bad", !!bad);
    clearTimeout(sayTimer);
    if (text && !bad) sayTimer = setTimeout(function () { status.textContent = ""; }, 6000);
  }
  function failed(error) {
    if (error && error.status === 409 && line.answering) return;
    say(t.failed + ": " + ((error && error.message) || error), true);
  }
  function show(id, on) { $(id).hidden = !on; }
  // softphone.js rejects answer() with code "answered-elsewhere" when another tab took the call
  // (the emulator's second answer is a 409)
  function isConflict(error) {
    return !!error && (error.code === "answered-elsewhere" || error.status === 409 || error.code === 409);
  }

  // ---- state ------------------------------------------------------------------------------
  function stateLabel(a) {
    if (a.state === "away" && (a.state_reason || "").toLowerCase() === "break") return t.state_break;
    var label = t["state_" + a.state] || a.state;
    return a.state === "away" && a.state_reason ? label + ": " + a.state_reason : label;
  }

  function drawState() {
    if (!agent) return;
    var badge = $("state");
    badge.textContent = stateLabel(agent);
    badge.dataset.state = agent.state;
    document.body.dataset.agentState = agent.state;
    var busy = agent.state === "reserved" || agent.state === "on-call";
    Array.prototype.forEach.call(document.querySelectorAll("[data-set-state]"), function (button) {
      var which = button.dataset.setState;
      var current = which === "break" ? agent.state === "away" && stateLabel(agent) === t.state_break
        : which === "away" ? agent.state === "away" && stateLabel(agent) !== t.state_break
        : agent.state === which;
      button.setAttribute("aria-pressed", current ? "true" : "false");
      // on a call the state follows the call; offline is always allowed
      button.disabled = busy && which !== "offline";
    });
    tickClock();
  }

  function tickClock() {
    var since = agent && agent.state_since ? Date.parse(agent.state_since) : NaN;
    $("state-time").textContent = isNaN(since) ? "–" : duration((Date.now() - since) / 1000);
  }

  function setState(which) {
    var body = {state: which};
    if (which === "break") body = {state: "away", reason: "break"};
    if (which === "away") body = {state: "away", reason: $("away-reason").value.trim() || t.away_reason_default};
    return Session.api("POST", base() + "/state", body).then(function (answer) {
      agent = answer;
      drawState();
      draw();
      say(t.state_changed);
    }, failed);
  }

  // ---- the screen pop ---------------------------------------------------------------------
  function item(list, label, value) {
    if (value === null || value === undefined || value === "") return;
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = label;
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
    list.appendChild(dt);
    list.appendChild(dd);
  }
  function bullets(entries, each) {
    var ul = document.createElement("ul");
    entries.forEach(function (entry) {
      var li = document.createElement("li");
      li.textContent = each(entry);
      ul.appendChild(li);
    });
    return ul;
  }
  function pairs(object) {
    return Object.keys(object || {}).map(function (key) { return key + ": " + object[key]; }).join(", ");
  }

  function drawPop() {
    var key = context ? JSON.stringify(context) : "";
    if (key === drawn.pop) return;
    drawn.pop = key;
    var pop = $("pop");
    pop.textContent = "";
    show("pop", !!context);
    show("pop-empty", !context);
    document.body.dataset.call = context ? context.call_sid : "";
    if (!context) return;
    var c = context, customer = c.customer || {};
    item(pop, t.caller, c.caller);
    if (customer.name || customer.vip) {
      var who = document.createElement("span");
      who.textContent = customer.name || "";
      if (customer.vip) {
        var vip = document.createElement("span");
        vip.className = "badge vip";
        vip.textContent = t.vip;
        who.appendChild(document.createTextNode(" "));
        who.appendChild(vip);
      }
      item(pop, t.customer, who);
    }
    item(pop, t.hotline, c.hotline);
    item(pop, t.language, c.language);
    item(pop, t.queue, c.queue_id);
    item(pop, t.ivr_path, (c.ivr_path || []).join(" → "));
    item(pop, t.inputs, pairs(c.inputs));
    item(pop, t.waited, c.waited_seconds === null ? null : duration(c.waited_seconds));
    item(pop, t.call_started, c.call_started_at ? when(c.call_started_at) : null);
    item(pop, t.previous_contacts, (c.previous_contacts || []).length
      ? bullets(c.previous_contacts, function (p) {
          return when(p.at) + " · " + [p.queue_id, p.agent_id, p.outcome].filter(Boolean).join(" · ");
        })
      : t.none);
    if (c.account) {
      var a = c.account;
      item(pop, t.account, a.account_id + (a.holder ? " · " + a.holder : ""));
      item(pop, t.balance, a.amount_due + " " + (a.currency || "") + (a.due_date ? " · " + a.due_date : ""));
      item(pop, t.account_status, a.status);
      if ((a.payments || []).length) {
        item(pop, t.payments, bullets(a.payments, function (p) {
          return when(p.at) + " · " + p.amount + " " + (p.currency || "");
        }));
      }
    }
    if ((c.transfers || []).length) {
      item(pop, t.transfers, bullets(c.transfers, function (x) {
        if (typeof x !== "object") return String(x);
        return [x.mode, x.to, x.target, x.outcome, x.at ? when(x.at) : null].filter(Boolean).join(" · ");
      }));
    }
  }

  // ---- the wrap-up ------------------------------------------------------------------------
  var WRAP_KEY = function () { return "switchboard.desk.wrap." + agentId; };

  function noteCall(c) {
    if (!c || c.agent_state === "reserved") return;
    if (wrap && wrap.call_sid === c.call_sid) {
      wrap.dispositions = c.dispositions || wrap.dispositions;
      if (c.disposition) wrap.saved = c.disposition.code;
    } else {
      wrap = {call_sid: c.call_sid, dispositions: c.dispositions || [],
              saved: c.disposition ? c.disposition.code : null};
      fillCodes();
    }
    try { sessionStorage.setItem(WRAP_KEY(), JSON.stringify(wrap)); } catch (e) { /* private mode */ }
  }

  function fillCodes() {
    var select = $("wrap-up").elements.code;
    select.textContent = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = t.choose;
    select.appendChild(first);
    (wrap ? wrap.dispositions : []).forEach(function (code) {
      var option = document.createElement("option");
      option.value = code;
      option.textContent = code.replace(/_/g, " ");
      select.appendChild(option);
    });
    $("wrap-up").elements.note.value = "";
  }

  function drawWrap() {
    var state = agent ? agent.state : "";
    // until saved; once saved, while the call or its wrap-up lasts
    var on = !!wrap && state !== "reserved" &&
      (!wrap.saved || state === "on-call" || state === "wrap-up");
    show("wrap-card", on);
    if (!on) return;
    $("wrap-call").textContent = fmt(t.wrap_up_for, {call: wrap.call_sid.slice(-8)}) +
      (wrap.saved ? " · " + fmt(t.disposition_saved, {code: wrap.saved}) : "");
    var form = $("wrap-up");
    Array.prototype.forEach.call(form.elements, function (el) { el.disabled = !!wrap.saved; });
  }

  function submitWrap(event) {
    event.preventDefault();
    var form = $("wrap-up"), error = form.querySelector(".error");
    error.textContent = "";
    var body = {code: form.elements.code.value, call_sid: wrap.call_sid};
    var note = form.elements.note.value.trim();
    if (note) body.note = note;
    Session.api("POST", base() + "/disposition", body).then(function (answer) {
      wrap.saved = answer.code;
      try { sessionStorage.setItem(WRAP_KEY(), JSON.stringify(wrap)); } catch (e) { /* private */ }
      say(fmt(t.disposition_saved, {code: answer.code}));
      drawWrap();
      loadToday();  // "My day" counts the code now, not at its next 30 s read
    }, function (failure) { error.textContent = failure.message; });
  }

  // ---- call controls ----------------------------------------------------------------------
  function consultState() { return context ? context.consult_state : null; }

  function drawControls() {
    var onCall = !!agent && agent.state === "on-call";
    var consult = consultState();
    var held = consult === "hold";
    var consulting = consult === "dialing" || consult === "talking";
    var softphone = line.active && !line.elsewhere;
    show("controls", onCall || softphone);
    show("hold", onCall && !consulting);
    $("hold").textContent = held ? t.resume : t.hold;
    $("hold").setAttribute("aria-pressed", held ? "true" : "false");
    show("mute", softphone);
    $("mute").textContent = line.muted ? t.unmute : t.mute;
    $("mute").setAttribute("aria-pressed", line.muted ? "true" : "false");
    show("end", softphone);
    show("transfer", onCall && !consulting && !held);
    show("consult", onCall && consulting);
    if (consulting) {
      var target = (context.consult_target || $("transfer").elements.target.value || "");
      $("consult-status").textContent = fmt(consult === "dialing" ? t.consult_dialing : t.consulting,
                                             {target: target});
    }
    var ringing = !!line.incoming && !line.elsewhere;
    show("offer", ringing);
    $("answer").disabled = line.answering;
    if (ringing) $("offer-from").textContent = context && context.caller ? context.caller : "";
    document.body.dataset.phone = line.elsewhere ? "elsewhere" : line.active ? "active"
      : line.incoming ? "ringing" : line.status;
  }

  function hold() {
    var on = consultState() !== "hold";
    Session.api(on ? "POST" : "DELETE", base() + "/hold").then(function (answer) {
      if (context) context.consult_state = answer.hold === "on" ? "hold" : null;
      drawControls();
    }, failed);
  }

  function transfer(event) {
    event.preventDefault();
    var form = $("transfer");
    var mode = (event.submitter && event.submitter.value) || "warm";
    var body = {to: form.elements.to.value, target: form.elements.target.value.trim(), mode: mode};
    Session.api("POST", base() + "/transfer", body).then(function (answer) {
      if (mode === "warm" && context) {
        context.consult_state = answer.consult || "dialing";
        context.consult_target = body.target;
      } else {
        say(t.transferred);
      }
      drawControls();
      poll();
    }, failed);
  }

  function finishConsult(step) {
    Session.api("POST", base() + "/transfer/" + step).then(function () {
      if (context) context.consult_state = null;
      say(step === "complete" ? t.transferred : "");
      drawControls();
      poll();
    }, failed);
  }

  // ---- the softphone ----------------------------------------------------------------------
  function phoneStatus(text) { $("phone-status").textContent = text; }

  function startPhone() {
    if (phone || line.status === "starting") return;
    if (!window.Softphone || typeof window.Softphone.create !== "function") {
      line.status = "missing";
      phoneStatus(t.phone_missing);
      return;
    }
    line.status = "starting";
    phoneStatus(t.phone_starting);
    Session.api("POST", base() + "/voice-token").then(function (answer) {
      phone = window.Softphone.create({token: answer.token, identity: answer.identity,
                                       edge: answer.edge, emulator_url: answer.emulator_url});
      phone.on("incoming", function (call) {
        line.incoming = call || true;
        line.elsewhere = false;
        drawControls();
        poll();
      });
      phone.on("accepted", function () {  // this tab's answer
        line.elsewhere = false;
        line.active = true;
        line.incoming = null;
        line.answering = false;
        drawControls();
        poll();
      });
      phone.on("cancel", function (event) {  // a ring this tab did not take
        line.incoming = null;
        line.answering = false;
        if (event && event.reason === "answered-elsewhere") answeredElsewhere(); else drawControls();
      });
      phone.on("token-expiring", renewNow);
      phone.on("disconnected", function () {
        line.active = false;
        line.incoming = null;
        line.muted = false;
        line.answering = false;
        line.elsewhere = false;
        drawControls();
        poll();
      });
      phone.on("error", function (error) {
        if (isConflict(error)) {
          answeredElsewhere();
          return;
        }
        say(t.phone_error + ": " + ((error && (error.message || error.code)) || error), true);
      });
      phone.on("registered", function () { line.status = "online"; phoneStatus(t.phone_online); drawControls(); });
      phone.on("offline", function () { line.status = "offline"; phoneStatus(t.phone_offline); drawControls(); });
      phone.on("online", function () { line.status = "online"; phoneStatus(t.phone_online); drawControls(); });
      Promise.resolve(phone.register()).then(function () {
        if (line.status === "starting") { line.status = "online"; phoneStatus(t.phone_online); }
        drawControls();
      }, function (error) { line.status = "offline"; phoneStatus(t.phone_error + ": " + (error && error.message)); });
      renewLater(answer);
    }, function (error) {
      line.status = "error";
      phoneStatus(t.phone_error + ": " + error.message);
    });
  }

  var renewTimer = null;
  function renewLater(answer) {
    var seconds = Math.max(30, (answer.ttl_seconds || 3600) - RENEW_MARGIN_S);
    clearTimeout(renewTimer);
    renewTimer = setTimeout(renewNow, seconds * 1000);
  }

  function renewNow() {
    clearTimeout(renewTimer);
    Session.api("POST", base() + "/voice-token").then(function (fresh) {
      if (phone) phone.updateToken(fresh.token);
      renewLater(fresh);
    }, function () { renewTimer = setTimeout(renewNow, 30000); });
  }

  function answeredElsewhere() {
    line.incoming = null;
    line.answering = false;
    line.elsewhere = true;
    say(t.answered_elsewhere);
    drawControls();
  }

  function answer() {
    if (!phone || !line.incoming || line.answering) return;
    line.answering = true;
    drawControls();
    Promise.resolve().then(function () { return phone.answer(); }).then(null, function (error) {
      line.answering = false;
      if (isConflict(error)) { answeredElsewhere(); return; }
      if (error && error.code === "nothing-ringing") line.incoming = null; else failed(error);
      drawControls();
    });
  }

  function reject() {
    if (!phone) return;
    Promise.resolve().then(function () { return phone.reject(); }).then(function () {
      line.incoming = null;
      drawControls();
    }, failed);
  }

  function mute() {
    if (!phone || !line.active) return;
    line.muted = !line.muted;
    Promise.resolve().then(function () { return phone.mute(line.muted); }).then(null, failed);
    drawControls();
  }

  function hangup() {
    if (!phone || !line.active) return;
    Promise.resolve().then(function () { return phone.hangup(); }).then(function () { poll(); }, failed);
  }

  // A closed or reloaded tab leaves: its device stops ringing (the emulator forgets it; the SDK
  // unregisters). The DELETE is sent with keepalive, so it outlives the page.
  window.addEventListener("pagehide", function () {
    if (phone) { try { phone.destroy(); } catch (e) { /* the page is going anyway */ } }
  });

  function drawPhoneKind() {
    if (!agent) return;
    if (agent.endpoint.kind === "client") {
      startPhone();
      return;
    }
    if (phone) {  // the endpoint moved off the browser: no softphone any more
      try { phone.destroy(); } catch (e) { /* gone already */ }
      phone = null;
    }
    line.status = "none";
    phoneStatus(fmt(t.phone_rings_phone, {address: agent.endpoint.address}) +
                (agent.state === "reserved" ? " " + t.phone_ringing : ""));
  }

  // ---- campaign seats ---------------------------------------------------------------------
  function seatPath(seat, step) {
    return "/campaigns/" + encodeURIComponent(seat.campaign_id) + "/seats/" +
      encodeURIComponent(agentId) + "/" + step;
  }

  function drawSeats() {
    var key = JSON.stringify(seats);
    if (key === drawn.seats) return;
    drawn.seats = key;
    var box = $("seats");
    box.textContent = "";
    if (!seats.length) {
      var none = document.createElement("p");
      none.className = "hint";
      none.textContent = t.no_seat;
      box.appendChild(none);
      return;
    }
    seats.forEach(function (seat) {
      var article = document.createElement("article");
      article.className = "seat";
      article.dataset.campaign = seat.campaign_id;
      var h = document.createElement("h3");
      h.textContent = seat.campaign_name || seat.campaign_id;
      article.appendChild(h);
      var p = document.createElement("p");
      p.textContent = t["seat_" + seat.state] || seat.state;
      article.appendChild(p);
      if (seat.contact) {
        var list = document.createElement("dl");
        item(list, t.offered, (seat.contact.name || "") + " ····" + (seat.contact.phone_last4 || ""));
        item(list, t.inputs, pairs(seat.contact.attributes));
        article.appendChild(list);
      }
      if (seat.state === "previewing" && seat.campaign_kind === "preview") {
        var left = seat.until ? Math.round((Date.parse(seat.until) - Date.now()) / 1000) : NaN;
        if (left > 0 && left <= (seat.preview_seconds || 600)) {
          var note = document.createElement("p");
          note.className = "hint";
          note.textContent = fmt(t.offer_until, {seconds: left});
          article.appendChild(note);
        }
        var buttons = document.createElement("div");
        buttons.className = "buttons";
        [["accept", t.accept, ""], ["skip", t.skip, "secondary"]].forEach(function (spec) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = spec[2];
          button.dataset.seatAction = spec[0];
          button.textContent = spec[1];
          button.onclick = function () { seatAction(seat, spec[0]); };
          buttons.appendChild(button);
        });
        article.appendChild(buttons);
      }
      box.appendChild(article);
    });
  }

  function seatAction(seat, step) {
    Session.api("POST", seatPath(seat, step)).then(function (answer) {
      say(step === "accept" ? fmt(t.accepted, {outcome: answer.outcome || ""}) : t.skipped);
      return loadSeats();
    }, failed);
  }

  function loadSeats() {
    return Session.api("GET", base() + "/seats").then(function (answer) {
      seats = answer.seats || [];
      drawSeats();
    }, function (error) {
      if (error.status === 404 || error.status === 403) { seats = []; drawSeats(); }
    });
  }

  // ---- the agent's day --------------------------------------------------------------------
  function figure(key, value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "object") return pairs(value) || t.none;
    if (/seconds$/.test(key)) return duration(value);
    if ((key === "occupancy" || key === "utilisation") && value <= 1) return Math.round(value * 100) + " %";
    return String(value);
  }

  function drawToday(answer) {
    var key = JSON.stringify(answer);
    if (key === drawn.today) return;
    drawn.today = key;
    var list = $("today");
    list.textContent = "";
    if (!answer) {
      var missing = document.createElement("dd");
      missing.className = "hint missing";
      missing.textContent = t.today_missing;
      list.appendChild(missing);
      return;
    }
    Object.keys(answer).forEach(function (name) {
      if (/^(agent_id|day|as_of|timezone|date)$/.test(name)) return;
      item(list, t["today_" + name] || name.replace(/_/g, " "), figure(name, answer[name]));
    });
  }

  function loadToday() {
    if (document.hidden) return;
    Session.api("GET", base() + "/today").then(drawToday, function (error) {
      if (error.status !== 0) drawToday(null);  // not there yet (404), or refused
    });
  }

  // ---- the poll ---------------------------------------------------------------------------
  function loadContext() {
    return Session.api("GET", base() + "/context").then(function (answer) {
      if (context && answer && context.call_sid === answer.call_sid && context.consult_target) {
        answer.consult_target = context.consult_target;
      }
      context = answer;
      noteCall(answer);
    }, function (error) {
      if (error.status === 404) context = null; else throw error;
    });
  }

  function draw() {
    drawState();
    drawPop();
    drawControls();
    drawWrap();
  }

  function poll() {
    if (polling || document.hidden || !agentId) return;
    polling = true;
    rounds += 1;
    Session.api("GET", base()).then(function (answer) {
      var kindChanged = !agent || agent.endpoint.kind !== answer.endpoint.kind;
      agent = answer;
      if (kindChanged || agent.endpoint.kind !== "client") drawPhoneKind();
      // the call another tab took is over
      if (agent.state !== "reserved" && agent.state !== "on-call") line.elsewhere = false;
      if (CALL_STATES.indexOf(agent.state) >= 0) return loadContext();
      context = null;
    }).then(function () {
      draw();
      if (rounds % 2 === 1) return loadSeats();
    }).then(function () {
      document.body.dataset.state = "ready";
    }, function (error) {
      if (error.status !== 0) failed(error);
    }).then(function () { polling = false; });
  }

  function keys(event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    var action = {a: answer, h: function () { if (!$("hold").hidden) hold(); }, m: mute, x: hangup}[
      (event.key || "").toLowerCase()];
    if (action) {
      event.preventDefault();
      action();
    }
  }

  Session.require("agent").then(function (user) {
    agentId = user.agent_id;
    if (!agentId) {
      say(t.forbidden, true);
      document.body.dataset.state = "ready";
      return;
    }
    try { wrap = JSON.parse(sessionStorage.getItem(WRAP_KEY()) || "null"); } catch (e) { wrap = null; }
    if (wrap) fillCodes();
    Array.prototype.forEach.call(document.querySelectorAll("[data-set-state]"), function (button) {
      button.addEventListener("click", function () { setState(button.dataset.setState); });
    });
    $("answer").addEventListener("click", answer);
    $("reject").addEventListener("click", reject);
    $("hold").addEventListener("click", hold);
    $("mute").addEventListener("click", mute);
    $("end").addEventListener("click", hangup);
    $("transfer").addEventListener("submit", transfer);
    $("consult-complete").addEventListener("click", function () { finishConsult("complete"); });
    $("consult-cancel").addEventListener("click", function () { finishConsult("cancel"); });
    $("wrap-up").addEventListener("submit", submitWrap);
    document.addEventListener("keydown", keys);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); loadToday(); } });
    Session.onNetwork(function (online) { if (online) { poll(); loadToday(); } });
    setInterval(poll, POLL_MS);
    setInterval(tickClock, 1000);
    setInterval(loadToday, TODAY_MS);
    poll();
    loadToday();
  });
})();
