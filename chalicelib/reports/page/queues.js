// The queues report page: fetch GET /reports/queues, then draw a line chart of calls over time,
// a bar chart of service level and abandon rate per queue, a pie of answered against abandoned,
// a bar chart of the callbacks each queue's callers asked for and how they closed, and two
// tables. No figure is in the page itself.
(function () {
  "use strict";
  var COLORS = {offered: "#3e7cb1", answered: "#2f9e44", abandoned: "#e8590c",
                service_level: "#2f9e44", abandon_rate: "#e8590c",
                callbacks_requested: "#3e7cb1", callbacks_completed: "#2f9e44",
                callbacks_failed: "#e03131"};
  var CALLS = ["offered", "answered", "abandoned"];
  var CALLBACKS = ["callbacks_requested", "callbacks_completed", "callbacks_failed"];
  var FIGURES = ["offered", "answered", "abandoned", "service_level", "asa_seconds",
                 "abandon_rate", "average_abandon_wait_seconds", "abandoned_in_sl"].concat(
                 CALLBACKS, ["callbacks_cancelled", "average_callback_wait_seconds",
                             "dispositions"]);

  function tables(report, page) {
    var t = page.t;
    var figures = FIGURES.map(function (c) { return {column: c, label: t[c]}; });
    var queue = {column: "queue_id", label: t.queue, text: function (r) { return r.queue_id; }};
    page.fill(document.getElementById("totals"),
              [queue].concat(figures, page.codeColumns(report.totals)), report.totals);
    page.fill(document.getElementById("rows"),
              [{column: "when", label: t.when, text: page.when}, queue].concat(figures),
              report.rows);
    document.getElementById("rows-title").textContent =
      report.interval === "half-hour" ? t.rows_table_half_hour : t.rows_table;
  }

  function volumes(report, page) {
    // one point per day (or half-hour), all the queues shown added up
    var summed = page.sumBy(report.rows, page.when, CALLS);
    return {labels: summed.labels, datasets: CALLS.map(function (c) {
      return {label: page.t[c], borderColor: COLORS[c], backgroundColor: COLORS[c],
              tension: 0.2, data: summed.labels.map(function (l) { return summed.sums[l][c]; })};
    })};
  }

  function perQueue(report, page, columns, value) {
    return {labels: report.totals.map(function (r) { return r.queue_id; }),
            datasets: columns.map(function (c) {
              return {label: page.t[c], backgroundColor: COLORS[c],
                      data: report.totals.map(function (r) { return value(r[c]); })};
            })};
  }

  function outcomes(report, page) {
    var summed = page.sumBy(report.totals, function () { return "all"; }, CALLS).sums.all ||
      {answered: 0, abandoned: 0};
    return {labels: [page.t.answered, page.t.abandoned],
            datasets: [{data: [summed.answered, summed.abandoned],
                        backgroundColor: [COLORS.answered, COLORS.abandoned]}]};
  }

  function show(report, page, drawable) {
    tables(report, page);
    if (!drawable) return;
    page.draw("volume-chart", "line", volumes(report, page),
              {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}});
    page.draw("levels-chart", "bar",
              perQueue(report, page, ["service_level", "abandon_rate"], page.hundredths),
              {scales: page.percentAxis(), plugins: {tooltip: {callbacks: {label: function (c) {
                return c.dataset.label + ": " + page.percent.format(c.parsed.y / 100); }}}}});
    page.draw("outcome-chart", "pie", outcomes(report, page));
    page.draw("callbacks-chart", "bar",
              perQueue(report, page, CALLBACKS, function (v) { return v; }),
              {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}});
  }

  reportPage({fields: ["from", "to", "interval", "queue"], show: show});
})();
