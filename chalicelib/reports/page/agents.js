// The agents report page: fetch GET /reports/agents, then draw handled calls per agent (in the
// ranking's order), each agent's time stacked (talk, hold, wrap-up, available, break), the team's
// occupancy per day (or half-hour: all agents' busy time over all their time able to take
// calls, not a mean of shares), the ranking and the totals. No figure is in the page itself.
(function () {
  "use strict";
  var COLORS = {handled: "#3e7cb1", talk_seconds: "#3e7cb1", hold_seconds: "#e8590c",
                wrap_up_seconds: "#f59f00", available_seconds: "#2f9e44",
                break_seconds: "#adb5bd", occupancy: "#7048e8"};
  var TIMES = ["talk_seconds", "hold_seconds", "wrap_up_seconds", "available_seconds",
               "break_seconds"];
  var FIGURES = ["handled", "talk_seconds", "hold_seconds", "wrap_up_seconds", "aht_seconds",
                 "available_seconds", "break_seconds", "logged_in_seconds", "occupancy",
                 "utilisation", "transfers", "dispositions"];

  function handled(report, t) {
    return {labels: report.ranking.map(function (r) { return r.agent_id; }),
            datasets: [{label: t.handled, backgroundColor: COLORS.handled,
                        data: report.ranking.map(function (r) { return r.handled; })}]};
  }

  function times(report, t) {
    return {labels: report.totals.map(function (r) { return r.agent_id; }),
            datasets: TIMES.map(function (c) {
              return {label: t[c], backgroundColor: COLORS[c],
                      data: report.totals.map(function (r) { return r[c]; })};
            })};
  }

  function occupancy(report, t, when) {
    // pooled over the agents shown: busy (talk + hold + wrap-up) over busy + available + reserved
    var labels = [], sums = {};
    report.rows.forEach(function (row) {
      var label = when(row);
      if (!(label in sums)) { labels.push(label); sums[label] = {busy: 0, able: 0}; }
      var busy = row.talk_seconds + (row.hold_seconds || 0) + row.wrap_up_seconds;
      sums[label].busy += busy;
      sums[label].able += busy + row.available_seconds + row.reserved_seconds;
    });
    return {labels: labels, datasets: [{
      label: t.team_occupancy, borderColor: COLORS.occupancy, backgroundColor: COLORS.occupancy,
      tension: 0.2, spanGaps: false, data: labels.map(function (l) {
        return sums[l].able ? Math.round(sums[l].busy / sums[l].able * 1000) / 10 : null; })}]};
  }

  function show(report, page, drawable) {
    var t = page.t;
    var agent = {column: "agent_id", label: t.agent, text: function (r) { return r.agent_id; }};
    page.fill(document.getElementById("ranking"),
              [{column: "rank", label: t.rank}, agent, {column: "handled", label: t.handled},
               {column: "aht_seconds", label: t.aht_seconds}], report.ranking);
    page.fill(document.getElementById("totals"), [agent].concat(FIGURES.map(function (c) {
      return {column: c, label: t[c]}; }), page.codeColumns(report.totals)), report.totals);
    if (!drawable) return;
    page.draw("handled-chart", "bar", handled(report, t),
              {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}});
    page.draw("time-chart", "bar", times(report, t), {scales: {
      x: {stacked: true}, y: {stacked: true, beginAtZero: true, title: {display: true,
                                                                        text: t.seconds}}}});
    page.draw("occupancy-chart", "line", occupancy(report, t, page.when), {scales: {
      y: {beginAtZero: true, max: 100, ticks: {callback: function (v) {
        return page.percent.format(v / 100); }}}}});
  }

  reportPage({fields: ["from", "to", "interval", "agent"], show: show});
})();
