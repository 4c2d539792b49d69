/* The supervisor's wallboard: GET /board (cut by the API to the supervisor's queues), polled
   every POLL_MS while the tab is visible and every HIDDEN_POLL_MS while it is hidden; while the
   API is unreachable Session.api retries the read itself (backing off) and the banner shows.
   The DOM is updated in place, keyed by queue and agent id, so a poll never takes the focus
   away from a button. Agent state: POST /agents/{id}/state {state, reason?}. Listen, whisper,
   barge: POST /agents/{id}/monitor {mode, endpoint} and DELETE to stop (409 {"error"} when the
   call has ended: shown as it is). The supervisor's own endpoint is kept in localStorage. */
(function () {
  "use strict";
  var POLL_MS = 5000;
  var HIDDEN_POLL_MS = 60000;
  var PHONE_KEY = "switchboard.board.endpoint";
  var ENDPOINT = /^(\+[1-9][0-9]{6,14}|client:[A-Za-z0-9_.@-]{1,128})$/;
  var t = Session.t;
  var timer = null;
  var inFlight = false;
  var lastGood = null;
  var names = {};  // agent id -> name, for messages
  var percent = new Intl.NumberFormat(Session.locale, {style: "percent", maximumFractionDigits: 1});
  var clockTime = new Intl.DateTimeFormat(Session.locale, {hour: "2-digit", minute: "2-digit", second: "2-digit"});

  function $(selector, root) { return (root || document).querySelector(selector); }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, key) { return key in values ? values[key] : whole; });
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }
  function share(value) { return value === null || value === undefined ? "–" : percent.format(value); }
  function stateName(state) { return t["state_" + state] || state; }
  function say(text, isError) {
    var message = $("#message");
    message.textContent = text || "";
    message.className = isError ? "error" : "notice";
  }

  // ---- drawing ------------------------------------------------------------------------------

  function alertText(alert) {
    var seconds = alert.alert === "oldest_wait_seconds" || alert.alert === "seconds_in_state";
    var shares = alert.alert === "service_level_below" || alert.alert === "abandon_rate_above";
    var show = seconds ? duration : shares ? share : String;
    return fill(t["alert_" + alert.alert] || alert.alert, {
      value: show(alert.value), threshold: show(alert.threshold),
      agent: names[alert.agent_id] || alert.agent_id || "", state: stateName(alert.state)});
  }

  function queueSection(queue) {
    var id = "queue-" + queue.queue_id;
    var section = document.getElementById(id);
    if (!section) {
      section = $("#queue-template").content.firstElementChild.cloneNode(true);
      section.id = id;
      section.dataset.queue = queue.queue_id;
      section.setAttribute("aria-labelledby", id + "-name");
      $(".queue-name", section).id = id + "-name";
      $("#queues").appendChild(section);
    }
    return section;
  }

  function figure(section, name, text, alerting) {
    var box = $('[data-figure="' + name + '"]', section);
    $("dd", box).textContent = text;
    box.classList.toggle("alerting", !!alerting);
  }

  function drawQueue(queue) {
    var section = queueSection(queue);
    var kinds = {};
    queue.alerts.forEach(function (alert) { kinds[alert.alert] = true; });
    $(".queue-name", section).textContent = queue.name || queue.queue_id;
    $("caption", section).textContent = t.board_agents_of + " " + (queue.name || queue.queue_id);
    figure(section, "callers_waiting", String(queue.callers_waiting), kinds.callers_waiting);
    figure(section, "oldest_wait_seconds", duration(queue.oldest_wait_seconds), kinds.oldest_wait_seconds);
    figure(section, "service_level_today", share(queue.service_level_today), kinds.service_level_below);
    $(".sl-within", section).textContent = "(" + fill(t.board_within, {seconds: queue.service_level_seconds}) + ")";
    figure(section, "abandon_rate_today", share(queue.abandon_rate_today), kinds.abandon_rate_above);
    figure(section, "callbacks_waiting", String(queue.callbacks_waiting));
    figure(section, "answered_today", queue.answered_today + " / " + queue.offered_today);
    figure(section, "average_speed_of_answer_today", queue.average_speed_of_answer_today === null
           ? "–" : duration(Math.round(queue.average_speed_of_answer_today)));
    $(".by-state", section).textContent = Object.keys(queue.agents_by_state)
      .filter(function (state) { return queue.agents_by_state[state]; })
      .map(function (state) { return stateName(state) + " " + queue.agents_by_state[state]; }).join(" · ");
    var list = $(".alerts", section);
    list.textContent = "";
    queue.alerts.forEach(function (alert) {
      var item = document.createElement("li");
      item.dataset.alert = alert.alert;
      item.textContent = alertText(alert);
      list.appendChild(item);
    });
    section.classList.toggle("alerting", queue.alerts.length > 0);
    drawAgents(section, queue);
  }

  function drawAgents(section, queue) {
    var body = $("tbody", section);
    var keep = {};
    queue.agents.forEach(function (agent) {
      names[agent.agent_id] = agent.name || agent.agent_id;
      keep[agent.agent_id] = true;
      var row = $('tr[data-agent="' + CSS.escape(agent.agent_id) + '"]', body);
      if (!row) {
        row = $("#agent-template").content.firstElementChild.cloneNode(true);
        row.dataset.agent = agent.agent_id;
        body.appendChild(row);
      }
      row.dataset.state = agent.state;
      $(".agent-name", row).textContent = agent.name || agent.agent_id;
      $(".state", row).textContent = stateName(agent.state);
      // a person's reason (away: "lunch"), not the system's call ids ("call CA…", "consult CA…")
      var reason = agent.state_reason && !/\bCA[0-9a-f]{32}\b/.test(agent.state_reason) ?
        agent.state_reason : "";
      $(".reason", row).textContent = reason ? "(" + reason + ")" : "";
      $(".time", row).textContent = duration(agent.seconds_in_state);
      // only hand states can be set: a reserved agent is being connected (the API says 409)
      $('[data-action="state"]', row).disabled = agent.state === "reserved";
      var monitor = $(".monitor", row);
      var onCall = agent.state === "on-call";
      if (monitor.hidden === onCall) {
        if (!onCall && monitor.contains(document.activeElement)) $('[data-action="state"]', row).focus();
        monitor.hidden = !onCall;
      }
    });
    Array.prototype.forEach.call(body.querySelectorAll("tr[data-agent]"), function (row) {
      if (!keep[row.dataset.agent]) row.remove();
    });
  }

  function draw(board) {
    var keep = {};
    board.queues.forEach(function (queue) { keep["queue-" + queue.queue_id] = true; drawQueue(queue); });
    Array.prototype.forEach.call(document.querySelectorAll("#queues > section"), function (section) {
      if (!keep[section.id]) section.remove();
    });
    $("#empty").hidden = board.queues.length > 0;
    lastGood = new Date();
    showUpdated(true);
  }

  function showUpdated(online) {
    var updated = $("#updated");
    if (!lastGood) return;
    updated.textContent = (online ? t.board_updated : t.board_stale) + " " + clockTime.format(lastGood);
    document.body.classList.toggle("stale", !online);
  }

  // ---- polling ------------------------------------------------------------------------------

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    clearTimeout(timer);
    if (inFlight) return Promise.resolve();
    inFlight = true;
    return Session.api("GET", "/board").then(function (board) {
      draw(board);
      if ($("#message").dataset.from === "poll") { say(""); $("#message").dataset.from = ""; }
    }, function (error) {
      say(error.message, true);
      $("#message").dataset.from = "poll";
    }).then(function () {
      inFlight = false;
      document.body.dataset.state = "ready";
      document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
      schedule(document.hidden ? HIDDEN_POLL_MS : POLL_MS);
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) poll();  // back to the board: fresh figures at once
    else schedule(HIDDEN_POLL_MS);
  });
  Session.onNetwork(function (online) { showUpdated(online); });

  // ---- actions ------------------------------------------------------------------------------

  var dialog = $("#state-dialog");
  var form = $("#state-form");
  var opener = null;

  function openStateDialog(button, agentId) {
    opener = button;
    form.dataset.agent = agentId;
    $("#state-agent").textContent = names[agentId] || agentId;
    var row = button.closest("tr");
    form.elements.state.value = row.dataset.state === "available" ? "away" : "available";
    form.elements.reason.value = "";
    $(".error", form).textContent = "";
    dialog.showModal();
    form.elements.state.focus();
  }

  dialog.addEventListener("close", function () { if (opener && opener.isConnected) opener.focus(); });
  $("[data-close]", form).addEventListener("click", function () { dialog.close(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var agentId = form.dataset.agent;
    var body = {state: form.elements.state.value};
    var reason = form.elements.reason.value.trim();
    if (reason) body.reason = reason;
    var submit = $("button[type=submit]", form);
    submit.disabled = true;
    Session.api("POST", "/agents/" + encodeURIComponent(agentId) + "/state", body).then(function (agent) {
      dialog.close();
      say(fill(t.board_state_changed, {agent: names[agentId] || agentId, state: stateName(agent.state)}));
      poll();
    }, function (error) {
      $(".error", form).textContent = error.message;
    }).then(function () { submit.disabled = false; });
  });

  var phone = $("#monitor-phone").elements.endpoint;
  phone.value = localStorage.getItem(PHONE_KEY) || "";
  phone.addEventListener("change", function () {
    var value = phone.value.replace(/[\s()-]/g, "");
    phone.value = value;
    phone.setAttribute("aria-invalid", value && !ENDPOINT.test(value) ? "true" : "false");
    if (!value || ENDPOINT.test(value)) localStorage.setItem(PHONE_KEY, value);
  });
  $("#monitor-phone").addEventListener("submit", function (event) { event.preventDefault(); });

  function monitor(button, agentId, mode) {
    var endpoint = phone.value.replace(/[\s()-]/g, "");
    if (!ENDPOINT.test(endpoint)) {
      say(t.board_need_phone, true);
      phone.setAttribute("aria-invalid", "true");
      phone.focus();
      return;
    }
    localStorage.setItem(PHONE_KEY, endpoint);
    var path = "/agents/" + encodeURIComponent(agentId) + "/monitor";
    var request = mode === "stop" ? Session.api("DELETE", path)
      : Session.api("POST", path, {mode: mode, endpoint: endpoint});
    button.disabled = true;
    request.then(function () {
      var agent = names[agentId] || agentId;
      say(mode === "stop" ? fill(t.board_monitor_stopped, {agent: agent})
        : fill(t.board_monitor_started, {mode: t["board_" + mode].toLowerCase(), agent: agent}));
    }, function (error) { say(error.message, true); })
      .then(function () { button.disabled = false; });
  }

  $("#queues").addEventListener("click", function (event) {
    var button = event.target.closest("button");
    var row = button && button.closest("tr[data-agent]");
    if (!row) return;
    if (button.dataset.action === "state") openStateDialog(button, row.dataset.agent);
    else if (button.dataset.action === "stop") monitor(button, row.dataset.agent, "stop");
    else if (button.dataset.mode) monitor(button, row.dataset.agent, button.dataset.mode);
  });

  Session.require("supervisor").then(function () { poll(); });
})();
