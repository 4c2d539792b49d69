// The queues report page: fetch GET /reports/queues (same origin, the typed API key), then draw
// a line chart of calls over time, a bar chart of service level and abandon rate per queue, a
// pie of answered against abandoned, and two tables. No figure is in the page itself.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("config").textContent);
  var t = config.strings;
  var KEY = "switchboard.reports.apiKey";
  var form = document.getElementById("query");
  var status = document.getElementById("status");
  var count = new Intl.NumberFormat(config.locale, {maximumFractionDigits: 0});
  var decimal = new Intl.NumberFormat(config.locale, {maximumFractionDigits: 1});
  var percent = new Intl.NumberFormat(config.locale, {style: "percent", maximumFractionDigits: 1});
  var COLORS = {offered: "#3e7cb1", answered: "#2f9e44", abandoned: "#e8590c",
                service_level: "#2f9e44", abandon_rate: "#e8590c"};
  var charts = {};

  function format(column, value) {
    if (value === null || value === undefined) return t.none;
    if (column === "service_level" || column === "abandon_rate") return percent.format(value);
    if (column.slice(-8) === "_seconds") return decimal.format(value);
    return count.format(value);
  }

  function when(row) {
    return row.half_hour ? row.day + " " + row.half_hour : row.day;
  }

  function fill(table, head, rows) {
    var thead = table.querySelector("thead"), tbody = table.querySelector("tbody");
    thead.textContent = ""; tbody.textContent = "";
    var tr = thead.insertRow();
    head.forEach(function (h) { var th = document.createElement("th"); th.textContent = h.label;
                                th.dataset.column = h.column; tr.appendChild(th); });
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

  var FIGURES = ["offered", "answered", "abandoned", "service_level", "asa_seconds",
                 "abandon_rate", "average_abandon_wait_seconds"];

  function tables(report) {
    var figures = FIGURES.map(function (c) { return {column: c, label: t[c]}; });
    var queue = {column: "queue_id", label: t.queue, text: function (r) { return r.queue_id; }};
    fill(document.getElementById("totals"), [queue].concat(figures), report.totals);
    fill(document.getElementById("rows"),
         [{column: "when", label: t.when, text: when}, queue].concat(figures), report.rows);
    document.getElementById("rows-title").textContent =
      report.interval === "half-hour" ? t.rows_table_half_hour : t.rows_table;
    document.getElementById("range").textContent = t.range + ": " + report.from + " – " + report.to;
  }

  function volumes(report) {
    // one point per day (or half-hour), all the queues shown added up
    var labels = [], sums = {};
    report.rows.forEach(function (row) {
      var label = when(row);
      if (!(label in sums)) { labels.push(label); sums[label] = {offered: 0, answered: 0, abandoned: 0}; }
      ["offered", "answered", "abandoned"].forEach(function (c) { sums[label][c] += row[c]; });
    });
    return {labels: labels, datasets: ["offered", "answered", "abandoned"].map(function (c) {
      return {label: t[c], data: labels.map(function (l) { return sums[l][c]; }),
              borderColor: COLORS[c], backgroundColor: COLORS[c], tension: 0.2};
    })};
  }

  function levels(report) {
    return {labels: report.totals.map(function (r) { return r.queue_id; }),
            datasets: ["service_level", "abandon_rate"].map(function (c) {
              return {label: t[c], backgroundColor: COLORS[c],
                      data: report.totals.map(function (r) {
                        return r[c] === null ? null : Math.round(r[c] * 1000) / 10; })};
            })};
  }

  function outcomes(report) {
    var answered = 0, abandoned = 0;
    report.totals.forEach(function (r) { answered += r.answered; abandoned += r.abandoned; });
    return {labels: [t.answered, t.abandoned],
            datasets: [{data: [answered, abandoned],
                        backgroundColor: [COLORS.answered, COLORS.abandoned]}]};
  }

  function draw(id, type, data, options) {
    if (charts[id]) {  // redrawn in place: a refresh moves the lines rather than flashing
      charts[id].data = data;
      charts[id].update();
      return;
    }
    charts[id] = new Chart(document.getElementById(id), {type: type, data: data, options: Object.assign(
      {animation: false, responsive: true, maintainAspectRatio: false, locale: config.locale},
      options || {})});
  }

  function percentAxis() {
    return {y: {beginAtZero: true, max: 100, ticks: {callback: function (v) {
      return percent.format(v / 100); }}}};
  }

  function show(report) {
    tables(report);
    if (typeof Chart === "undefined") {
      var note = document.getElementById("charts-unavailable");
      if (!note) {
        note = document.createElement("p"); note.id = "charts-unavailable";
        note.textContent = t.charts_unavailable; status.after(note);
      }
      return;
    }
    draw("volume-chart", "line", volumes(report), {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}});
    draw("levels-chart", "bar", levels(report), {scales: percentAxis(), plugins: {tooltip: {
      callbacks: {label: function (c) { return c.dataset.label + ": " +
        percent.format(c.parsed.y / 100); }}}}});
    draw("outcome-chart", "pie", outcomes(report));
  }

  function load() {
    var query = new URLSearchParams();
    ["from", "to", "interval", config.target].forEach(function (name) {
      var value = form.elements[name].value;
      if (value) query.set(name, value);
    });
    query.set("format", "json");
    var key = form.elements.api_key.value;
    if (key) sessionStorage.setItem(KEY, key);
    var headers = {Accept: "application/json"};
    if (key) headers["x-api-key"] = key;
    document.body.dataset.state = "loading";
    status.className = ""; status.textContent = t.loading;
    return fetch("../" + config.kind + "?" + query.toString(),
                 {headers: headers, credentials: "omit", cache: "no-store"})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.status === 403 || response.status === 401) throw new Error(t.needs_key);
          if (!response.ok) throw new Error(t.failed + " " + (body.error || response.status));
          return body;
        });
      })
      .then(function (report) {
        show(report);
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
  load();
})();
