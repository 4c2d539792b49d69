// The staffing report page: fetch GET /reports/staffing for one queue's planned week, then show
// the assumptions, the forecast calls per half-hour, the agents needed and rostered (needed
// over shrinkage) per half-hour, and per day its peak. No figure is in the page itself.
(function () {
  "use strict";
  var COLORS = {forecast_offered: "#3e7cb1", agents: "#2f9e44", scheduled_agents: "#e8590c"};
  var ASSUMPTIONS = ["model", "target_sl", "answer_within", "shrinkage", "patience",
                     "max_occupancy", "aht_seconds", "weeks"];

  function series(report, columns, t, type) {
    return {labels: report.rows.map(function (r) { return r.day + " " + r.half_hour; }),
            datasets: columns.map(function (c) {
              return {label: t[c], borderColor: COLORS[c], backgroundColor: COLORS[c],
                      pointRadius: 0, borderWidth: type === "line" ? 2 : 0, stepped: type === "line",
                      data: report.rows.map(function (r) { return r[c]; })};
            })};
  }

  function peaks(report) {
    // per day: calls forecast, its busiest half-hour, the most agents needed and rostered
    var days = [], byDay = {};
    report.rows.forEach(function (r) {
      var d = byDay[r.day];
      if (!d) {
        d = byDay[r.day] = {day: r.day, forecast_offered: 0, peak_half_hour: r.half_hour,
                            peak_offered: -1, peak_agents: 0, peak_scheduled_agents: 0,
                            scheduled_agent_hours: 0};
        days.push(d);
      }
      d.forecast_offered += r.forecast_offered;
      if (r.forecast_offered > d.peak_offered) {
        d.peak_offered = r.forecast_offered; d.peak_half_hour = r.half_hour;
      }
      d.peak_agents = Math.max(d.peak_agents, r.agents);
      d.peak_scheduled_agents = Math.max(d.peak_scheduled_agents, r.scheduled_agents);
      d.scheduled_agent_hours += r.scheduled_agents / 2;
    });
    return days;
  }

  function assumptions(report, page) {
    var list = document.getElementById("assumptions"), t = page.t;
    list.textContent = "";
    ASSUMPTIONS.forEach(function (name) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = t["assume_" + name];
      var value = report.assumptions[name];
      dd.dataset.name = name;
      dd.textContent = name === "model" ? value
        : value === null || value === undefined ? (name === "patience" ? t.erlang_c : t.none)
        : page.format(name, value);
      list.append(dt, dd);
    });
  }

  function show(report, page, drawable) {
    var t = page.t;
    assumptions(report, page);
    page.fill(document.getElementById("peaks"), [
      {column: "day", label: t.day_column, text: function (r) { return r.day; }},
      {column: "forecast_offered", label: t.forecast_offered},
      {column: "peak_half_hour", label: t.peak_half_hour, text: function (r) {
        return r.peak_offered > 0 ? r.peak_half_hour : t.none; }},
      {column: "peak_agents", label: t.peak_agents},
      {column: "peak_scheduled_agents", label: t.peak_scheduled_agents},
      {column: "scheduled_agent_hours", label: t.scheduled_agent_hours}], peaks(report));
    if (!drawable) return;
    var axis = {x: {ticks: {autoSkip: true, maxTicksLimit: 14}}};
    page.draw("forecast-chart", "bar", series(report, ["forecast_offered"], t, "bar"),
              {scales: Object.assign({y: {beginAtZero: true}}, axis)});
    page.draw("staff-chart", "line", series(report, ["agents", "scheduled_agents"], t, "line"),
              {scales: Object.assign({y: {beginAtZero: true, ticks: {precision: 0}}}, axis)});
  }

  reportPage({fields: ["queue", "from", "target_sl", "answer_within", "shrinkage", "patience"],
              show: show, waitFor: "queue"});
})();
