// What every report page shares (inlined before its own script): formatting, tables, drawing a
// chart in place, fetching the report with the typed API key (and its next pages), live refresh.
// reportPage({fields, show, lists?, waitFor?}) asks GET /reports/<kind>?<fields>, follows the
// answer's "next" pages putting their rows, totals and the kind's other lists end to end, and
// calls show(report, page, drawable).
function reportPage(options) {
  "use strict";
  var config = JSON.parse(document.getElementById("config").textContent);
  var t = config.strings;
  var KEY = "switchboard.reports.apiKey";
  var form = document.getElementById("query");
  var status = document.getElementById("status");
  var count = new Intl.NumberFormat(config.locale, {maximumFractionDigits: 0});
  var decimal = new Intl.NumberFormat(config.locale, {maximumFractionDigits: 1});
  var percent = new Intl.NumberFormat(config.locale, {style: "percent", maximumFractionDigits: 1});
  var charts = {};
  var SHARES = ["occupancy", "utilisation", "service_level", "abandon_share", "target_sl",
                "shrinkage", "max_occupancy", "abandon_rate", "containment", "reached_share",
                "first_contact_resolution"];
  var LISTS = ["rows", "totals"].concat(options.lists || []);
  var MAX_PAGES = 200;  // a report paginated further than this is refused, not drawn in part

  function format(column, value) {
    if (value === null || value === undefined) return t.none;
    if (typeof value === "string") return value;
    if (SHARES.indexOf(column) >= 0) return percent.format(value);
    if (column.slice(-8) === "_seconds" || column === "forecast_offered") {
      return decimal.format(value);
    }
    return count.format(value);
  }

  function when(row) {
    return row.half_hour ? row.day + " " + row.half_hour : row.day;
  }

  // head: [{column, label, text?}]: text(row) for a cell shown as it is
  function fill(table, head, rows) {
    var thead = table.querySelector("thead"), tbody = table.querySelector("tbody");
    thead.textContent = ""; tbody.textContent = "";
    var tr = thead.insertRow();
    head.forEach(function (h) { var th = document.createElement("th"); th.textContent = h.label;
                                th.dataset.column = h.column; if (h.text) th.className = "text";
                                tr.appendChild(th); });
    rows.forEach(function (row) {
      var line = tbody.insertRow();
      head.forEach(function (h) {
        var cell = line.insertCell();
        cell.dataset.column = h.column;
        if (h.text) { cell.className = "text"; cell.textContent = h.text(row); }
        else cell.textContent = format(h.column, row[h.column]);
      });
    });
  }

  function chartsAvailable() {
    if (typeof Chart !== "undefined") return true;
    if (!document.getElementById("charts-unavailable")) {
      var note = document.createElement("p"); note.id = "charts-unavailable";
      note.textContent = t.charts_unavailable; status.after(note);
    }
    return false;
  }

  function draw(id, type, data, chartOptions) {
    if (charts[id]) {  // redrawn in place: a refresh moves the lines rather than flashing
      charts[id].data = data;
      charts[id].update();
      return;
    }
    charts[id] = new Chart(document.getElementById(id), {type: type, data: data, options: Object.assign(
      {animation: false, responsive: true, maintainAspectRatio: false, locale: config.locale},
      chartOptions || {})});
  }

  // The figures of rows added up per label (label(row): a day, a flow...), labels in the order
  // met: {labels: [...], sums: {label: {column: total}}}.
  function sumBy(rows, label, columns) {
    var labels = [], sums = {};
    rows.forEach(function (row) {
      var key = label(row);
      if (!(key in sums)) {
        labels.push(key); sums[key] = {};
        columns.forEach(function (c) { sums[key][c] = 0; });
      }
      columns.forEach(function (c) { sums[key][c] += row[c] || 0; });
    });
    return {labels: labels, sums: sums};
  }

  function percentAxis() {  // a y axis of percentages, the data 0..100
    return {y: {beginAtZero: true, max: 100, ticks: {callback: function (v) {
      return percent.format(v / 100); }}}};
  }

  function hundredths(share) {  // a share 0..1 as a percentage to a tenth, for a chart
    return share === null || share === undefined ? null : Math.round(share * 1000) / 10;
  }

  // the disposition codes the rows carry (disposition_<code>), as table columns, sorted
  function codeColumns(rows) {
    var seen = {};
    rows.forEach(function (row) {
      Object.keys(row).forEach(function (k) { if (k.indexOf("disposition_") === 0) seen[k] = 1; });
    });
    return Object.keys(seen).sort().map(function (k) {
      return {column: k, label: t.code_prefix + k.slice("disposition_".length)};
    });
  }

  var page = {config: config, t: t, format: format, when: when, fill: fill, draw: draw,
              percent: percent, decimal: decimal, count: count, sumBy: sumBy,
              percentAxis: percentAxis, hundredths: hundredths, codeColumns: codeColumns};

  // The console's session (/console signs in; its session.js keeps it in localStorage), when
  // this browser has one that has not ended: the report is asked for with its bearer token.
  function consoleSession() {
    try {
      var session = JSON.parse(localStorage.getItem("switchboard.session") || "null");
      return session && session.ends_at > Date.now() ? session : null;
    } catch (e) { return null; }
  }

  function ask(url, headers) {
    return fetch(url, {headers: headers, credentials: "omit", cache: "no-store"})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.status === 401) throw new Error(t.needs_key);
          if (response.status === 403) throw new Error(t.not_allowed);  // signed in, wrong role
          if (!response.ok) throw new Error(t.failed + " " + (body.error || response.status));
          return body;
        });
      });
  }

  // The report and its next pages, lists end to end. Only next's query is used: the API gives
  // its own path, which lacks the stage prefix the page may be served under.
  function askAll(query, headers) {
    var base = "../" + config.kind, seen = {}, pages = 1;
    function more(report, next) {
      if (!next) { delete report.next; return report; }
      var at = next.indexOf("?"), rest = at >= 0 ? next.slice(at) : "";
      if (seen[rest] || ++pages > MAX_PAGES) throw new Error(t.failed + " next: " + next);
      seen[rest] = true;
      return ask(base + rest, headers).then(function (part) {
        LISTS.forEach(function (name) {
          if (Array.isArray(part[name])) report[name] = (report[name] || []).concat(part[name]);
        });
        return more(report, part.next);
      });
    }
    return ask(base + "?" + query, headers).then(function (first) {
      return more(first, first.next);
    });
  }

  function fillRange(report) {  // a default range shows in the form as the dates it was
    ["from", "to"].forEach(function (name) {
      var input = form.elements[name];
      if (input && !input.value && report[name]) input.value = report[name];
    });
  }

  function load() {
    var query = new URLSearchParams();
    options.fields.forEach(function (name) {
      var value = form.elements[name].value;
      if (value) query.set(name, value);
    });
    query.set("format", "json");
    var key = form.elements.api_key.value;
    if (key) sessionStorage.setItem(KEY, key);
    var headers = {Accept: "application/json"};
    if (key) headers["x-api-key"] = key;
    var session = consoleSession();
    if (session) headers.Authorization = "Bearer " + session.token;
    document.body.dataset.state = "loading";
    status.className = ""; status.textContent = t.loading;
    return askAll(query.toString(), headers)
      .then(function (report) {
        fillRange(report);
        document.getElementById("range").textContent =
          t.range + ": " + report.from + " – " + report.to;
        options.show(report, page, chartsAvailable());
        status.textContent = "";
        document.body.dataset.state = "ready";
      })
      .catch(function (error) {
        status.className = "error"; status.textContent = error.message;
        document.body.dataset.state = "failed";
      });
  }

  var REFRESH_MS = 30000;
  var timer = null;
  function live() {  // asks again every 30 s while the box is ticked and the tab is seen
    if (timer) clearInterval(timer);
    timer = form.elements.live.checked ? setInterval(function () {
      if (document.visibilityState !== "hidden" && document.body.dataset.state !== "loading") {
        load();
      }
    }, REFRESH_MS) : null;
  }

  form.elements.api_key.value = sessionStorage.getItem(KEY) || "";
  form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
  form.elements.live.addEventListener("change", live);
  if (!options.waitFor || form.elements[options.waitFor].value) load();
  else { status.textContent = t["needs_" + options.waitFor]; document.body.dataset.state = "idle"; }
  return page;
}
