// The missed-calls report page: fetch GET /reports/missed, then draw the calls missed and the
// records followed up by day (all hotlines shown, added up), each hotline's mean time from the
// first miss to the follow-up, why calls were missed (pie), and the tables. No figure is in the
// page itself.
(function () {
  "use strict";
  var REASONS = ["abandoned", "after_hours", "voicemail", "callback_failed"];
  var FIGURES = ["missed"].concat(REASONS, ["followed_up", "average_follow_up_seconds"]);
  var COLORS = {missed: "#e8590c", followed_up: "#2f9e44", average_follow_up_seconds: "#3e7cb1",
                abandoned: "#e8590c", after_hours: "#7048e8", voicemail: "#3e7cb1",
                callback_failed: "#e03131"};

  function byDay(report, page) {
    var summed = page.sumBy(report.rows, function (r) { return r.day; },
                            ["missed", "followed_up"]);
    return {labels: summed.labels, datasets: ["missed", "followed_up"].map(function (c) {
      // dashed, so a line lying on the other (all followed up) still shows
      return {label: page.t[c], borderColor: COLORS[c], backgroundColor: COLORS[c], tension: 0.2,
              borderDash: c === "followed_up" ? [6, 4] : [], borderWidth: c === "followed_up" ? 3 : 2,
              data: summed.labels.map(function (l) { return summed.sums[l][c]; })};
    })};
  }

  function followUp(report, page) {
    return {labels: report.totals.map(function (r) { return r.hotline; }),
            datasets: [{label: page.t.average_follow_up_seconds,
                        backgroundColor: COLORS.average_follow_up_seconds,
                        data: report.totals.map(function (r) {
                          return r.average_follow_up_seconds; })}]};
  }

  function reasons(report, page) {
    var all = page.sumBy(report.totals, function () { return "all"; }, REASONS).sums.all || {};
    return {labels: REASONS.map(function (c) { return page.t["reason_" + c]; }),
            datasets: [{data: REASONS.map(function (c) { return all[c] || 0; }),
                        backgroundColor: REASONS.map(function (c) { return COLORS[c]; })}]};
  }

  function show(report, page, drawable) {
    var t = page.t;
    var hotline = {column: "hotline", label: t.hotline, text: function (r) { return r.hotline; }};
    var figures = FIGURES.map(function (c) {
      return {column: c, label: t[REASONS.indexOf(c) >= 0 ? "reason_" + c : c]}; });
    page.fill(document.getElementById("totals"), [hotline].concat(figures), report.totals);
    page.fill(document.getElementById("rows"), [
      {column: "day", label: t.day_column, text: function (r) { return r.day; }}, hotline]
      .concat(figures), report.rows);
    if (!drawable) return;
    page.draw("missed-day-chart", "line", byDay(report, page),
              {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}});
    page.draw("follow-up-chart", "bar", followUp(report, page),
              {scales: {y: {beginAtZero: true, title: {display: true, text: t.seconds}}}});
    page.draw("reasons-chart", "pie", reasons(report, page));
  }

  reportPage({fields: ["from", "to", "hotline"], show: show});
})();
