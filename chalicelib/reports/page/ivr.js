// The IVR report page: fetch GET /reports/ivr, then draw each flow's funnel (calls that reached
// each node and that left the IVR there, nodes never reached left out of the chart), the calls
// the IVR handled alone against those handed to a person (pie), calls and contained calls over
// time, and the tables. No figure is in the page itself.
(function () {
  "use strict";
  var COLORS = {reached: "#3e7cb1", left_here: "#e8590c", calls: "#3e7cb1",
                contained: "#2f9e44", handed_over: "#f59f00"};
  var FIGURES = ["calls", "contained", "containment"];

  function flows(report) {
    var seen = {};
    report.totals.forEach(function (r) { seen[r.flow_id] = true; });
    return Object.keys(seen).length;
  }

  function funnel(report, page) {
    var several = flows(report) > 1;
    var steps = report.funnel.filter(function (r) { return r.reached || r.left_here; });
    return {labels: steps.map(function (r) { return several ? r.flow_id + ": " + r.node : r.node; }),
            datasets: ["reached", "left_here"].map(function (c) {
              return {label: page.t[c], backgroundColor: COLORS[c],
                      data: steps.map(function (r) { return r[c]; })};
            })};
  }

  function contained(report, page) {
    var all = page.sumBy(report.totals, function () { return "all"; }, ["calls", "contained"])
      .sums.all || {calls: 0, contained: 0};
    return {labels: [page.t.contained, page.t.handed_over],
            datasets: [{data: [all.contained, all.calls - all.contained],
                        backgroundColor: [COLORS.contained, COLORS.handed_over]}]};
  }

  function calls(report, page) {
    var summed = page.sumBy(report.rows, page.when, ["calls", "contained"]);
    return {labels: summed.labels, datasets: ["calls", "contained"].map(function (c) {
      return {label: page.t[c], borderColor: COLORS[c], backgroundColor: COLORS[c], tension: 0.2,
              data: summed.labels.map(function (l) { return summed.sums[l][c]; })};
    })};
  }

  function show(report, page, drawable) {
    var t = page.t;
    var flow = {column: "flow_id", label: t.flow, text: function (r) { return r.flow_id; }};
    var figures = FIGURES.map(function (c) { return {column: c, label: t[c]}; });
    page.fill(document.getElementById("totals"), [flow].concat(figures), report.totals);
    page.fill(document.getElementById("funnel"), [flow,
      {column: "node", label: t.node, text: function (r) { return r.node; }},
      {column: "reached", label: t.reached}, {column: "left_here", label: t.left_here},
      {column: "reached_share", label: t.reached_share}], report.funnel);
    page.fill(document.getElementById("rows"),
              [{column: "when", label: t.when, text: page.when}, flow].concat(figures),
              report.rows);
    document.getElementById("rows-title").textContent =
      report.interval === "half-hour" ? t.ivr_rows_table_half_hour : t.ivr_rows_table;
    if (!drawable) return;
    var counts = {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}};
    page.draw("funnel-chart", "bar", funnel(report, page), counts);
    page.draw("contained-chart", "pie", contained(report, page));
    page.draw("calls-chart", "line", calls(report, page), counts);
  }

  reportPage({fields: ["from", "to", "interval", "flow"], show: show, lists: ["funnel"]});
})();
