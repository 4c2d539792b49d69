// The campaigns report page: fetch GET /reports/campaigns, then draw each campaign's dials, live
// answers and abandoned calls (bars), the abandon rate by day of the campaigns shown (abandoned
// over live answers, pooled), the tables and the report's notes. No figure is in the page.
(function () {
  "use strict";
  var COLORS = {dials: "#3e7cb1", live_answers: "#2f9e44", abandoned: "#e8590c",
                abandon_rate: "#e8590c"};
  var FIGURES = ["dials", "live_answers", "abandoned", "abandon_rate", "machine_answers",
                 "texts", "average_talk_seconds"];
  var BARS = ["dials", "live_answers", "abandoned"];

  function name(row) { return row.name || row.campaign_id; }

  function perCampaign(report, page) {
    return {labels: report.totals.map(name), datasets: BARS.map(function (c) {
      return {label: page.t[c], backgroundColor: COLORS[c],
              data: report.totals.map(function (r) { return r[c]; })};
    })};
  }

  function abandonRate(report, page) {
    var summed = page.sumBy(report.rows, function (r) { return r.day; },
                            ["abandoned", "live_answers"]);
    return {labels: summed.labels, datasets: [{
      label: page.t.abandon_rate, borderColor: COLORS.abandon_rate,
      backgroundColor: COLORS.abandon_rate, tension: 0.2, spanGaps: false,
      data: summed.labels.map(function (l) {
        var day = summed.sums[l];
        return day.live_answers ? page.hundredths(day.abandoned / day.live_answers) : null;
      })}]};
  }

  function dispositions(row, page) {
    var found = row.contacts_by_disposition || {};
    return Object.keys(found).map(function (d) {
      return d + " " + page.count.format(found[d]); }).join(", ") || page.t.none;
  }

  function show(report, page, drawable) {
    var t = page.t;
    var campaign = {column: "campaign_id", label: t.campaign,
                    text: function (r) { return r.campaign_id; }};
    var figures = FIGURES.map(function (c) { return {column: c, label: t[c]}; });
    page.fill(document.getElementById("totals"), [campaign,
      {column: "name", label: t.campaign_name, text: name},
      {column: "status", label: t.campaign_status, text: function (r) { return r.status; }}]
      .concat(figures, [
        {column: "contacts_by_disposition", label: t.contacts_by_disposition,
         text: function (r) { return dispositions(r, page); }},
        {column: "contacts_done", label: t.contacts_done},
        {column: "paid_accounts", label: t.paid_accounts},
        {column: "amounts_collected", label: t.amounts_collected,
         text: function (r) { return r.amounts_collected || t.none; }}]), report.totals);
    page.fill(document.getElementById("rows"), [
      {column: "day", label: t.day_column, text: function (r) { return r.day; }}, campaign]
      .concat(figures), report.rows);
    var notes = document.getElementById("notes");
    notes.textContent = "";
    (report.notes || []).forEach(function (note) {
      var item = document.createElement("li"); item.textContent = note; notes.appendChild(item);
    });
    if (!drawable) return;
    page.draw("campaign-chart", "bar", perCampaign(report, page),
              {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}});
    page.draw("abandon-chart", "line", abandonRate(report, page), {scales: page.percentAxis()});
  }

  reportPage({fields: ["from", "to", "campaign"], show: show});
})();
