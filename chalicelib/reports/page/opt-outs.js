// The opt-outs report page: fetch GET /reports/opt-outs, then draw the opt-outs by channel
// (pie), opt-outs and opt-ins by day (all channels shown, added up), and the tables. No figure
// is in the page itself.
(function () {
  "use strict";
  var COLORS = {sms: "#3e7cb1", voice: "#f59f00", opt_outs: "#e8590c", opt_ins: "#2f9e44"};
  var FIGURES = ["opt_outs", "opt_ins", "net"];

  function channelName(page, channel) { return page.t["channel_" + channel] || channel; }

  function byChannel(report, page) {
    return {labels: report.totals.map(function (r) { return channelName(page, r.channel); }),
            datasets: [{label: page.t.opt_outs,
                        data: report.totals.map(function (r) { return r.opt_outs; }),
                        backgroundColor: report.totals.map(function (r) {
                          return COLORS[r.channel] || "#adb5bd"; })}]};
  }

  function byDay(report, page) {
    var summed = page.sumBy(report.rows, function (r) { return r.day; }, ["opt_outs", "opt_ins"]);
    return {labels: summed.labels, datasets: ["opt_outs", "opt_ins"].map(function (c) {
      return {label: page.t[c], borderColor: COLORS[c], backgroundColor: COLORS[c], tension: 0.2,
              data: summed.labels.map(function (l) { return summed.sums[l][c]; })};
    })};
  }

  function show(report, page, drawable) {
    var t = page.t;
    var channel = {column: "channel", label: t.channel,
                   text: function (r) { return channelName(page, r.channel); }};
    var figures = FIGURES.map(function (c) { return {column: c, label: t[c]}; });
    page.fill(document.getElementById("totals"), [channel].concat(figures), report.totals);
    page.fill(document.getElementById("rows"), [
      {column: "day", label: t.day_column, text: function (r) { return r.day; }}, channel]
      .concat(figures), report.rows);
    if (!drawable) return;
    page.draw("channel-chart", "pie", byChannel(report, page));
    page.draw("opt-out-day-chart", "line", byDay(report, page),
              {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}});
  }

  reportPage({fields: ["from", "to", "channel"], show: show});
})();
