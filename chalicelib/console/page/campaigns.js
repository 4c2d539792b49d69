/* The campaign and reminder manager (/console/campaigns, supervisors and admins).

   - Contact lists: POST /contact-lists, then the CSV in chunks (each with the header line, at
     most CHUNK_ROWS rows and CHUNK_BYTES bytes) to POST /contact-lists/{id}/rows?chunk=N
     [&last=true] with upload progress per chunk; then GET /contact-lists/{id} (the report) and
     GET /contact-lists/{id}/rejected (CSV: shown as a table, or downloaded).
   - Campaigns: GET /campaigns, POST /campaigns, POST /campaigns/{id}/start|pause|resume|stop;
     the open campaign's GET /campaigns/{id} every POLL_MS while the tab is visible.
   - Reminder batches: POST /reminder-batches with "preview": true (counts, nothing written)
     or false (sent), then GET /reminder-batches/{id}.
   API errors: a 400 names its field, shown next to that field; a 409 next to the action. */
(function () {
  "use strict";
  var t = Session.t;
  var POLL_MS = 5000;
  // The API takes 2,000 rows and 5 MB a chunk; half the rows keeps a chunk well inside API
  // Gateway's 29 s. The upload form's data-chunk-rows may set fewer (the tests send 2).
  var CHUNK_ROWS = 1000;
  var CHUNK_BYTES = 1024 * 1024;
  var LISTS_KEY = "switchboard.lists";  // the lists this browser uploaded: the form offers them
  var FINAL = ["completed", "stopped"];
  var ACTIONS = {draft: ["start"], scheduled: ["start", "stop"], running: ["pause", "stop"],
                 paused: ["resume", "stop"]};
  var openCampaign = null;
  var pollTimer = null;
  var lastBatch = null;
  var lastList = null;
  var unfinished = null;  // {key, listId}: an upload that failed half-way, resumed by the same file

  function $(selector, root) { return (root || document).querySelector(selector); }
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }
  function number(value) {
    return typeof value === "number" ? value.toLocaleString(Session.locale) : (value == null ? "–" : value);
  }
  function percent(value) {
    return typeof value === "number"
      ? (value * 100).toLocaleString(Session.locale, {maximumFractionDigits: 1}) + " %" : "–";
  }
  function when(iso) {
    if (!iso) return "–";
    return new Date(iso).toLocaleString(Session.locale, {dateStyle: "short", timeStyle: "short"});
  }
  function label(prefix, code) { return t[prefix + code] || code; }
  function status(text) { $("#status").textContent = text; }

  function figures(list, pairs) {
    list.textContent = "";
    pairs.forEach(function (pair) {
      var box = el("div");
      box.dataset.figure = pair[0];
      box.appendChild(el("dt", t["fig_" + pair[0]] || pair[0]));
      box.appendChild(el("dd", pair[1]));
      list.appendChild(box);
    });
  }

  // ---- errors next to what they are about ---------------------------------------------------
  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".error"), function (e) { e.textContent = ""; });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (e) {
      e.removeAttribute("aria-invalid");
    });
  }
  function showError(form, error) {
    var body = error.body || {};
    var field = body.field || "";
    var target = field && form.querySelector('.error[data-for="' + field + '"]');
    if (!target && field.indexOf(".") > 0) {  // retries.busy.delay_seconds -> retries
      target = form.querySelector('.error[data-for="' + field.split(".")[0] + '"]');
    }
    var message = error.status === 409 ? t.conflict + ": " + error.message
      : error.status === 403 ? t.forbidden : error.message;
    if (target && target.closest("label") && !target.closest("label").hidden) {
      // next to its field the field's name is said already: "caller_id: is required" -> "is required"
      target.textContent = field && message.indexOf(field + ": ") === 0
        ? message.slice(field.length + 2) : message;
      var input = target.closest("label").querySelector("input, select");
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    } else {
      $('.error[data-for=""]', form).textContent = message;
    }
  }

  // ---- downloads with the bearer token ------------------------------------------------------
  function download(path, filename) {
    return Session.api("GET", path).then(function (text) {
      var url = URL.createObjectURL(new Blob([text], {type: "text/csv"}));
      var link = el("a");
      link.href = url;
      link.download = filename;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      return text;
    });
  }

  function parseCsv(text) {  // RFC 4180: quoted fields, doubled quotes, CRLF
    var rows = [], row = [], field = "", quoted = false;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
        else if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"') quoted = true;
      else if (c === ",") { row.push(field); field = ""; }
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        row.push(field); rows.push(row); row = []; field = "";
      } else field += c;
    }
    if (field || row.length) { row.push(field); rows.push(row); }
    return rows;
  }

  // ---- contact lists --------------------------------------------------------------------------
  function knownLists() {
    try { return JSON.parse(localStorage.getItem(LISTS_KEY) || "[]"); } catch (e) { return []; }
  }
  function remember(report) {
    var lists = knownLists().filter(function (l) { return l.list_id !== report.list_id; });
    lists.unshift({list_id: report.list_id, name: report.name});
    localStorage.setItem(LISTS_KEY, JSON.stringify(lists.slice(0, 20)));
    drawKnownLists();
  }
  function drawKnownLists() {
    var datalist = $("#known-lists");
    datalist.textContent = "";
    knownLists().forEach(function (l) {
      var option = el("option", l.name);
      option.value = l.list_id;
      datalist.appendChild(option);
    });
  }

  // The file as chunks of whole CSV records, each led by the header line.
  function chunksOf(text, most) {
    var lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    var records = [], current = null, quotes = 0;
    lines.forEach(function (line) {
      current = current === null ? line : current + "\n" + line;
      quotes += (line.match(/"/g) || []).length;
      if (quotes % 2 === 0) { records.push(current); current = null; quotes = 0; }
    });
    if (current !== null) records.push(current);
    while (records.length && !records[records.length - 1].trim()) records.pop();
    var header = records.shift() || "";
    var encoder = new TextEncoder();
    var chunks = [], rows = [], size = 0;
    records.forEach(function (record) {
      var bytes = encoder.encode(record).length + 1;
      if (rows.length && (rows.length >= most || size + bytes > CHUNK_BYTES)) {
        chunks.push(header + "\n" + rows.join("\n") + "\n");
        rows = []; size = 0;
      }
      rows.push(record);
      size += bytes;
    });
    chunks.push(header + "\n" + rows.join("\n") + "\n");
    return chunks.map(function (chunk) { return encoder.encode(chunk); });
  }

  // One chunk by XHR (fetch has no upload progress); resolves with the API's answer.
  function sendChunk(listId, number, bytes, last, progress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/contact-lists/" + encodeURIComponent(listId) + "/rows?chunk=" + number +
               "&last=" + (last ? "true" : "false"));
      xhr.setRequestHeader("Content-Type", "text/csv");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Authorization", "Bearer " + (Session.token() || ""));
      xhr.upload.onprogress = function (event) { if (event.lengthComputable) progress(event.loaded); };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 401) {
          // the session ended: the sign-in dialog (through a read), then this chunk again
          Session.api("GET", "/console/session").then(function () {
            return sendChunk(listId, number, bytes, last, progress);
          }).then(resolve, reject);
          return;
        }
        if (xhr.status >= 400) {
          var error = new Error((body && body.error) || xhr.statusText);
          error.status = xhr.status;
          error.body = body;
          reject(error);
          return;
        }
        progress(bytes.length);
        resolve(body);
      };
      xhr.onerror = function () {
        var error = new Error(t.network_error);
        error.status = 0;
        reject(error);
      };
      xhr.send(new Blob([bytes], {type: "text/csv"}));
    });
  }

  function setProgress(done, total, chunk, chunks) {
    var share = total ? Math.min(100, Math.round(100 * done / total)) : 100;
    $("#upload-bar").value = share;
    $("#upload-percent").textContent = share + " %";
    $("#upload-chunk").textContent = t.chunk_of.replace("{n}", chunk).replace("{total}", chunks);
  }

  function upload(event) {
    event.preventDefault();
    var form = event.target;
    clearErrors(form);
    var file = form.elements.file.files[0];
    if (!form.elements.name.value.trim()) {
      showError(form, {body: {field: "name"}, message: t.required});
      return;
    }
    if (!file) {
      showError(form, {body: {field: "body"}, message: t.choose_file});
      return;
    }
    var button = $("button[type=submit]", form);
    button.disabled = true;
    $("#list-report").hidden = true;
    $("#rejected").hidden = true;
    var body = {name: form.elements.name.value.trim(),
                default_region: form.elements.default_region.value.trim().toUpperCase() || "US",
                fallback_timezone: form.elements.fallback_timezone.value.trim() || "UTC"};
    var chunks, total, sent = 0;
    var key = [file.name, file.size, file.lastModified, JSON.stringify(body)].join("|");
    file.text().then(function (text) {
      var most = Math.min(CHUNK_ROWS, Number(form.dataset.chunkRows) || CHUNK_ROWS);
      chunks = chunksOf(text, most);
      total = chunks.reduce(function (sum, c) { return sum + c.length; }, 0);
      $("#upload-progress").hidden = false;
      setProgress(0, total, 0, chunks.length);
      // the same file again after a failure: into the same list (a chunk already in is
      // answered from its record, so nothing counts twice)
      if (unfinished && unfinished.key === key) return {list_id: unfinished.listId};
      return Session.api("POST", "/contact-lists", body);
    }).then(function (created) {
      var listId = created.list_id;
      unfinished = {key: key, listId: listId};
      var step = Promise.resolve();
      chunks.forEach(function (bytes, n) {
        step = step.then(function () {
          setProgress(sent, total, n + 1, chunks.length);
          return sendChunk(listId, n, bytes, n === chunks.length - 1, function (loaded) {
            setProgress(sent + Math.min(loaded, bytes.length), total, n + 1, chunks.length);
          }).then(function () { sent += bytes.length; });
        });
      });
      return step.then(function () { return listId; });
    }).then(function (listId) {
      setProgress(total, total, chunks.length, chunks.length);
      return showList(listId);
    }).then(function (report) {
      unfinished = null;
      remember(report);
      form.elements.file.value = "";
      $("#campaign-form").elements.list_id.value = report.list_id;
      status(t.list_uploaded.replace("{name}", report.name));
    }).catch(function (error) { showError(form, error); })
      .then(function () { button.disabled = false; });
  }

  function showList(listId) {
    return Session.api("GET", "/contact-lists/" + encodeURIComponent(listId)).then(function (report) {
      lastList = report;
      $("#list-report-id").textContent = report.list_id;
      figures($("#list-figures"), [
        ["list_status", label("list_", report.status)], ["chunks", number(report.chunks)],
        ["received", number(report.received)],
        ["accepted", number(report.accepted)], ["rejected", number(report.rejected)],
        ["duplicates", number(report.duplicates)], ["blocked", number(report.blocked)]]);
      var reasons = Object.keys(report.blocked_reasons || {});
      $("#list-blocked").textContent = reasons.length ? t.blocked_reasons + ": " + reasons.map(function (r) {
        return label("reason_", r) + " " + report.blocked_reasons[r];
      }).join(", ") : "";
      var noneRefused = !report.rejected && !report.duplicates;
      $("#rejected-view").disabled = noneRefused;
      $("#rejected-download").disabled = noneRefused;
      $("#list-report").hidden = false;
      if (!noneRefused) return viewRejected().then(function () { return report; });
      return report;
    });
  }

  function viewRejected() {
    if (!lastList) return Promise.resolve();
    return Session.api("GET", "/contact-lists/" + encodeURIComponent(lastList.list_id) + "/rejected")
      .then(function (text) {
        var rows = parseCsv(text || "");
        var box = $("#rejected");
        box.textContent = "";
        var table = el("table");
        table.id = "rejected-rows";
        table.appendChild(el("caption", t.rejected_rows));
        var head = el("tr");
        (rows.shift() || []).forEach(function (name) {
          var th = el("th", name === "reason" ? t.reason : name === "line" ? t.line : name === "chunk" ? t.chunk : name);
          th.scope = "col";
          head.appendChild(th);
        });
        var thead = el("thead");
        thead.appendChild(head);
        table.appendChild(thead);
        var tbody = el("tbody");
        rows.forEach(function (row) {
          if (row.length === 1 && !row[0]) return;
          var tr = el("tr");
          row.forEach(function (value, i) {
            var td = el("td", i === 0 ? label("reason_", value) : value);
            if (i === 0) td.dataset.reason = value;
            tr.appendChild(td);
          });
          tbody.appendChild(tr);
        });
        table.appendChild(tbody);
        box.appendChild(table);
        box.hidden = false;
      }).catch(function (error) { status(error.message); });
  }

  // ---- campaigns ------------------------------------------------------------------------------
  function loadCampaigns() {
    return Session.api("GET", "/campaigns").then(function (answer) {
      var tbody = $("#campaign-table tbody");
      tbody.textContent = "";
      var campaigns = answer.campaigns || [];
      $("#no-campaigns").hidden = campaigns.length > 0;
      campaigns.forEach(function (c) {
        var tr = el("tr");
        tr.dataset.campaign = c.campaign_id;
        if (openCampaign === c.campaign_id) tr.setAttribute("aria-selected", "true");
        tr.appendChild(el("td", c.name));
        tr.appendChild(el("td", label("kind_", c.kind) +
          (String(c.list_id).indexOf("batch:") === 0 ? " · " + t.batch : "")));
        var cell = el("td");
        cell.appendChild(el("span", label("status_", c.status), "badge status-" + c.status));
        tr.appendChild(cell);
        tr.appendChild(el("td", when(c.created_at)));
        var open = el("button", t.open, "secondary small");
        open.type = "button";
        open.setAttribute("aria-label", t.open + ": " + c.name);
        open.addEventListener("click", function () { openDetail(c.campaign_id); });
        var td = el("td");
        td.appendChild(open);
        tr.appendChild(td);
        tbody.appendChild(tr);
      });
    }).catch(function (error) { status(error.message); });
  }

  function localIso(value) {  // a datetime-local value as ISO 8601 with the offset (UTC)
    return value ? new Date(value).toISOString().replace(/\.\d{3}Z$/, "Z") : undefined;
  }
  function numberField(form, name, scale) {
    var raw = form.elements[name].value;
    if (raw === "" || form.elements[name].closest("label").hidden) return undefined;
    var value = Number(raw) * (scale || 1);
    return name.indexOf("seconds") >= 0 ? Math.round(value) : value;
  }

  function kindChanged() {
    var form = $("#campaign-form");
    var kind = form.elements.kind.value;
    Array.prototype.forEach.call(form.querySelectorAll("[data-kinds]"), function (labelEl) {
      labelEl.hidden = labelEl.dataset.kinds.split(" ").indexOf(kind) < 0;
    });
  }

  function createCampaign(event) {
    event.preventDefault();
    var form = event.target;
    clearErrors(form);
    var kind = form.elements.kind.value;
    var body = {name: form.elements.name.value.trim(), kind: kind,
                purpose: form.elements.purpose.value, list_id: form.elements.list_id.value.trim(),
                caller_id: form.elements.caller_id.value.trim(),
                language: form.elements.language.value,
                window: {}, start: form.elements.start.checked};
    body.window[form.elements.window_days.value] =
      [form.elements.window_from.value + "-" + form.elements.window_to.value];
    if (kind === "agentless") body.flow_id = form.elements.flow_id.value.trim();
    if (kind === "sms") body.template = form.elements.template.value.trim();
    if (kind !== "sms" && form.elements.queue_id.value) body.queue_id = form.elements.queue_id.value;
    ["starts_at", "ends_at"].forEach(function (name) {
      var at = localIso(form.elements[name].value);
      if (at) body[name] = at;
    });
    [["max_dial_level"], ["abandon_target", 0.01], ["ring_seconds"], ["preview_seconds"],
     ["weight"]].forEach(function (spec) {
      var value = numberField(form, spec[0], spec[1]);
      if (value !== undefined && !isNaN(value)) body[spec[0]] = value;
    });
    var button = $("button[type=submit]", form);
    button.disabled = true;
    Session.api("POST", "/campaigns", body).then(function (campaign) {
      status(t.campaign_created.replace("{name}", campaign.name));
      form.elements.name.value = "";
      $("#new-campaign").open = false;
      return loadCampaigns().then(function () { openDetail(campaign.campaign_id); });
    }).catch(function (error) { showError(form, error); })
      .then(function () { button.disabled = false; });
  }

  function openDetail(campaignId) {
    openCampaign = campaignId;
    $("#action-error").textContent = "";
    Array.prototype.forEach.call(document.querySelectorAll("#campaign-table tr[data-campaign]"), function (tr) {
      if (tr.dataset.campaign === campaignId) tr.setAttribute("aria-selected", "true");
      else tr.removeAttribute("aria-selected");
    });
    $("#report-link").href = "/reports/campaigns/page?campaign=" + encodeURIComponent(campaignId) +
      "&lang=" + Session.lang;
    $("#campaign-detail").hidden = false;
    return refreshDetail().then(function () {
      var first = $("#detail-actions button:not([hidden])");
      if (first) first.focus();
    });
  }

  function refreshDetail() {
    if (!openCampaign) return Promise.resolve();
    var asked = openCampaign;
    return Session.api("GET", "/campaigns/" + encodeURIComponent(asked)).then(function (c) {
      if (asked !== openCampaign) return;
      drawDetail(c);
    }).catch(function (error) { $("#action-error").textContent = error.message; });
  }

  function drawDetail(c) {
    var detail = $("#campaign-detail");
    detail.dataset.status = c.status;
    $("#detail-name").textContent = c.name;
    var badge = $("#detail-status");
    badge.textContent = label("status_", c.status);
    badge.className = "badge status-" + c.status;
    $("#detail-id").textContent = c.campaign_id + " · " + label("kind_", c.kind) + " · " + c.list_id;
    var allowed = ACTIONS[c.status] || [];
    Array.prototype.forEach.call(document.querySelectorAll("#detail-actions [data-action]"), function (b) {
      b.hidden = allowed.indexOf(b.dataset.action) < 0;
    });
    var progress = c.progress || {};
    var live = progress.live || {};
    var pace = progress.pace || {};
    var contacts = progress.contacts || {};
    var byStatus = contacts.by_status || {};
    var pairs = [["dial_level", typeof pace.dial_level === "number"
                   ? pace.dial_level.toLocaleString(Session.locale, {maximumFractionDigits: 2}) : "–"],
                 ["dials", number(live.dials)], ["live_answers", number(live.live_answers)],
                 ["abandoned", number(live.abandoned)], ["abandon_rate", percent(live.abandon_rate)],
                 ["abandon_target", percent(c.abandon_target)], ["answer_rate", percent(live.answer_rate)],
                 ["machine_answers", number(live.machine_answers)], ["ringing", number(live.ringing)]];
    if (c.kind === "sms") pairs.push(["texts", number(live.texts)]);
    figures($("#live-figures"), pairs);
    var abandon = $('#live-figures [data-figure="abandon_rate"]');
    if (abandon && typeof live.abandon_rate === "number" && live.abandon_rate > c.abandon_target) {
      abandon.classList.add("over");
    }
    figures($("#contact-figures"), [
      ["loaded", number(contacts.loaded) + (contacts.list_size != null ? " / " + number(contacts.list_size) : "")],
      ["waiting", number(byStatus.waiting)], ["in_progress", number(byStatus.in_progress)],
      ["done", number(byStatus.done)]].concat(Object.keys(contacts.by_disposition || {}).map(function (d) {
        return ["disposition_" + d, number(contacts.by_disposition[d])];
      })));
    $("#live-since").textContent = live.since ? t.live_since.replace("{since}", when(live.since))
      + (pace.mode ? " · " + t.pace_mode + ": " + pace.mode : "") : "";
    detail.dataset.dials = live.dials || 0;
    var row = document.querySelector('#campaign-table tr[data-campaign="' + c.campaign_id + '"] .badge');
    if (row) { row.textContent = label("status_", c.status); row.className = "badge status-" + c.status; }
    schedulePoll(FINAL.indexOf(c.status) < 0);
  }

  function schedulePoll(again) {
    clearTimeout(pollTimer);
    pollTimer = null;
    if (again && !document.hidden) {
      pollTimer = setTimeout(function () { refreshDetail(); }, POLL_MS);
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && openCampaign) refreshDetail();
    else schedulePoll(false);
    if (!document.hidden) loadCampaigns();
  });
  // the table (other people's campaigns, the job's changes) every LIST_POLL_MS while visible
  var LIST_POLL_MS = 30000;
  setInterval(function () {
    if (!document.hidden && document.body.dataset.state === "ready") loadCampaigns();
  }, LIST_POLL_MS);

  function lifecycle(event) {
    var button = event.target.closest("[data-action]");
    if (!button || !openCampaign) return;
    var action = button.dataset.action;
    if (action === "stop" && !window.confirm(t.confirm_stop)) return;
    $("#action-error").textContent = "";
    button.disabled = true;
    Session.api("POST", "/campaigns/" + encodeURIComponent(openCampaign) + "/" + action)
      .then(function (c) {
        status(t["done_" + action].replace("{name}", c.name));
        return refreshDetail();
      }).catch(function (error) {
        $("#action-error").textContent = (error.status === 409 ? t.conflict + ": " : "") + error.message;
        if (error.status === 409) return refreshDetail();  // show the campaign as it is now
      }).then(function () { button.disabled = false; });
  }

  // ---- reminder batches -----------------------------------------------------------------------
  function channelChanged() {
    var form = $("#batch-form");
    var channel = form.elements.channel.value;
    Array.prototype.forEach.call(form.querySelectorAll("[data-channels]"), function (labelEl) {
      labelEl.hidden = labelEl.dataset.channels.split(" ").indexOf(channel) < 0;
    });
    $("#batch-send").disabled = true;  // a changed request is previewed again first
  }

  function batchBody(form, preview) {
    var e = form.elements;
    var segment = {status: e.status.value};
    if (e.overdue_more_than_days.value !== "") segment.overdue_more_than_days = Number(e.overdue_more_than_days.value);
    if (e.due_from.value) segment.due_from = e.due_from.value;
    if (e.due_to.value) segment.due_to = e.due_to.value;
    var body = {segment: segment, channel: e.channel.value, caller_id: e.caller_id.value.trim(),
                language: e.language.value, preview: preview};
    if (body.channel === "sms") body.template = e.template.value;
    if (body.channel === "voice") body.flow = e.flow.value.trim() || "reminder_call";
    if (body.channel === "agent") body.queue = e.queue.value;
    if (body.channel !== "sms" && e.name.value.trim()) body.name = e.name.value.trim();
    var at = localIso(e.starts_at.value);
    if (at) body.starts_at = at;
    if (!preview) body.request_id = form.dataset.requestId;
    return body;
  }

  function submitBatch(event) {
    event.preventDefault();
    var form = event.target;
    var preview = !(event.submitter && event.submitter.id === "batch-send");
    clearErrors(form);
    if (!preview && !window.confirm(t.confirm_send)) return;
    var buttons = form.querySelectorAll("button[type=submit]");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    if (preview) form.dataset.requestId = "console-" + Date.now().toString(36) + "-" +
      Math.random().toString(36).slice(2, 10);  // sending this preview twice sends once
    var enableSend = false;
    Session.api("POST", "/reminder-batches", batchBody(form, preview)).then(function (answer) {
      if (preview) {
        drawPreview(answer);
        enableSend = answer.accounts > 0;
      } else {
        $("#batch-preview-result").hidden = true;
        status(t.batch_sent.replace("{n}", number(answer.accounts)));
        showBatch(answer.batch_id);
        loadCampaigns();
      }
    }).catch(function (error) { showError(form, error); })
      .then(function () {
        $("#batch-preview").disabled = false;
        $("#batch-send").disabled = !enableSend;
      });
  }

  function drawPreview(answer) {
    var refused = answer.refused || {};
    var pairs = [["accounts", number(answer.accounts)], ["channel", label("channel_", answer.channel)],
                 ["purpose", label("purpose_", answer.purpose)]];
    Object.keys(refused).forEach(function (reason) {
      pairs.push(["refused_" + reason, number(refused[reason])]);
    });
    figures($("#preview-figures"), pairs);
    var tbody = $("#preview-samples tbody");
    tbody.textContent = "";
    (answer.samples || []).forEach(function (s) {
      var tr = el("tr");
      [s.account_id, s.holder, s.amount, s.due_date || "–"].forEach(function (v) { tr.appendChild(el("td", v)); });
      tbody.appendChild(tr);
    });
    $("#batch-preview-result").hidden = false;
  }

  function showBatch(batchId) {
    lastBatch = batchId;
    return Session.api("GET", "/reminder-batches/" + encodeURIComponent(batchId)).then(function (b) {
      var r = b.results || {};
      $("#batch-id").textContent = batchId;
      $("#batch-status").textContent = label("status_", b.status);
      $("#batch-status").className = "badge status-" + b.status;
      var contacts = (b.progress && b.progress.contacts && b.progress.contacts.by_status) || {};
      figures($("#batch-figures"), [
        ["accounts", number(b.loaded)], ["waiting", number(contacts.waiting)],
        ["done", number(contacts.done)], ["sent", number(r.sent)], ["delivered", number(r.delivered)],
        ["answered", number(r.answered)], ["opted_out", number(r.opted_out)],
        ["paid_accounts", number(r.paid && r.paid.accounts)]]);
      $("#batch-result").hidden = false;
      if (FINAL.indexOf(b.status) < 0 && !document.hidden) {
        setTimeout(function () { if (lastBatch === batchId) showBatch(batchId); }, POLL_MS);
      }
    }).catch(function (error) { status(error.message); });
  }

  function loadQueues() {
    return Session.api("GET", "/queues").then(function (answer) {
      var queues = answer.queues || answer || [];
      [$("#campaign-form").elements.queue_id, $("#batch-form").elements.queue].forEach(function (select) {
        queues.forEach(function (q) {
          var option = el("option", q.name ? q.name + " (" + q.queue_id + ")" : q.queue_id);
          option.value = q.queue_id;
          select.appendChild(option);
        });
      });
    }).catch(function () { /* the lists stay empty: typed errors still name the field */ });
  }

  Session.require("supervisor").then(function () {
    drawKnownLists();
    kindChanged();
    channelChanged();
    $("#upload").addEventListener("submit", upload);
    $("#rejected-view").addEventListener("click", viewRejected);
    $("#rejected-download").addEventListener("click", function () {
      if (lastList) download("/contact-lists/" + encodeURIComponent(lastList.list_id) + "/rejected",
                             lastList.list_id + "-rejected.csv").catch(function (e) { status(e.message); });
    });
    $("#campaign-form").addEventListener("submit", createCampaign);
    $("#campaign-form").elements.kind.addEventListener("change", kindChanged);
    $("#detail-actions").addEventListener("click", lifecycle);
    $("#results-download").addEventListener("click", function () {
      if (openCampaign) download("/campaigns/" + encodeURIComponent(openCampaign) + "/results",
                                 openCampaign + "-results.csv").catch(function (e) { $("#action-error").textContent = e.message; });
    });
    $("#batch-form").addEventListener("submit", submitBatch);
    $("#batch-form").elements.channel.addEventListener("change", channelChanged);
    $("#batch-form").addEventListener("input", function (event) {
      if (event.target.type !== "submit") $("#batch-send").disabled = true;
    });
    $("#batch-results-download").addEventListener("click", function () {
      if (lastBatch) download("/reminder-batches/" + encodeURIComponent(lastBatch) + "/results",
                              lastBatch + "-results.csv").catch(function (e) { status(e.message); });
    });
    return Promise.all([loadQueues(), loadCampaigns()]);
  }).then(function () {
    document.body.dataset.state = "ready";
  });
})();
