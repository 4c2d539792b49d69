// The repeat-callers report page: fetch GET /reports/repeat-callers for one hotline, then show
// its first-contact resolution as a figure and a doughnut, the numbers that called most (the
// TOP first: calls in the range and most within the window), and every repeat caller with
// their last outcome. No figure is in the page itself.
(function () {
  "use strict";
  var TOP = 10;
  var COLORS = {calls: "#3e7cb1", most_in_window: "#e8590c", resolved: "#2f9e44",
                came_back: "#f59f00"};
  var SUMMARY = ["callers", "calls", "repeat_callers", "served_callers", "times", "days"];

  function top(report, page) {
    var rows = report.rows.slice(0, TOP);  // the report lists the most calls first
    return {labels: rows.map(function (r) { return r.number; }),
            datasets: ["calls", "most_in_window"].map(function (c) {
              return {label: page.t[c === "calls" ? "calls_in_range" : c],
                      backgroundColor: COLORS[c],
                      data: rows.map(function (r) { return r[c]; })};
            })};
  }

  function resolution(share, page) {
    var resolved = page.hundredths(share);
    return {labels: [page.t.resolved_first_time, page.t.came_back],
            datasets: [{data: resolved === null ? [] : [resolved, Math.round((100 - resolved) * 10) / 10],
                        backgroundColor: [COLORS.resolved, COLORS.came_back]}]};
  }

  function summary(report, totals, page) {
    var list = document.getElementById("summary");
    list.textContent = "";
    SUMMARY.forEach(function (name) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = page.t["summary_" + name];
      dd.dataset.name = name;
      dd.textContent = page.format(name, name in totals ? totals[name] : report[name]);
      list.append(dt, dd);
    });
  }

  function show(report, page, drawable) {
    var t = page.t;
    var totals = report.totals[0] || {};
    document.getElementById("fcr").textContent =
      page.format("first_contact_resolution", totals.first_contact_resolution);
    summary(report, totals, page);
    var text = function (column) {
      return function (r) { return r[column] === null || r[column] === undefined ? t.none
                                                                                 : r[column]; };
    };
    page.fill(document.getElementById("rows"), [
      {column: "number", label: t.number, text: text("number")},
      {column: "calls", label: t.calls_in_range},
      {column: "most_in_window", label: t.most_in_window},
      {column: "first_day", label: t.first_day, text: text("first_day")},
      {column: "last_day", label: t.last_day, text: text("last_day")},
      {column: "last_outcome", label: t.last_outcome, text: text("last_outcome")}], report.rows);
    if (!drawable) return;
    page.draw("repeat-chart", "bar", top(report, page),
              {indexAxis: "y", scales: {x: {beginAtZero: true, ticks: {precision: 0}}}});
    page.draw("fcr-chart", "doughnut", resolution(totals.first_contact_resolution, page),
              {plugins: {tooltip: {callbacks: {label: function (c) {
                return c.label + ": " + page.percent.format(c.parsed / 100); }}}}});
  }

  reportPage({fields: ["hotline", "from", "to", "times", "days"], show: show,
              waitFor: "hotline"});
})();
