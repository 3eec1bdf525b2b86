// Small charts of the analysis pages: node status by chain (dashboard) and firms per year
// (node panel, also when htmx swaps the panel in). Data sit in <script type="application/json">
// elements named by the chart element's data attribute; no request is made.
(function () {
  "use strict";

  // ECharts' SVG carries no viewBox: add one after every render so print CSS can scale the
  // drawing to the paper (width 100%, height auto) instead of clipping the screen's size
  function keepViewBox(chart, el) {
    chart.on("finished", function () {
      var svg = el.querySelector("svg");
      if (!svg) return;
      svg.setAttribute("viewBox", "0 0 " + chart.getWidth() + " " + chart.getHeight());
      svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    });
  }

  function cssVar(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (v && v.trim()) || fallback;
  }

  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function statusChart(el) {
    var data = json(el.dataset.statusChart);
    if (!data) return;
    var order = ["missing", "weak", "present", "strong"];
    var fallback = { missing: "#c7cdd4", weak: "#f0c36b", present: "#8fbbe8", strong: "#6cc28b" };
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    keepViewBox(chart, el);
    var height = Math.max(260, 34 * data.chains.length + 80);
    el.style.height = height + "px";
    chart.resize();
    var series = order.map(function (s) {
      return {
        name: data.names[s],
        type: "bar",
        stack: "status",
        barMaxWidth: 18,
        itemStyle: {
          color: s === "missing" ? "#e5e8ec" : cssVar("--" + s + "-fill", fallback[s]),
          borderColor: cssVar("--" + s + "-line", "#999"),
          borderWidth: 1,
        },
        label: { show: true, fontSize: 10, color: cssVar("--" + s + "-ink", "#333"), formatter: function (p) { return p.value || ""; } },
        data: data.series[s].slice().reverse(),
      };
    });
    // breaks come on top of the statuses (a break node is missing or weak): a red ring
    // after each chain's bar, labelled with the count
    var chains = data.chains.slice().reverse();
    var breaks = chains.map(function (name, i) {
      var j = data.chains.length - 1 - i;
      var total = order.reduce(function (acc, s) { return acc + data.series[s][j]; }, 0);
      return [total + 0.8, name, data.series["break"][j]];
    });
    series.push({
      name: data.names["break"],
      type: "scatter",
      symbolSize: function (v) { return v[2] ? 9 : 0; },
      itemStyle: { color: "#fff", borderColor: cssVar("--break", "#d62828"), borderWidth: 2 },
      label: {
        show: true,
        position: "right",
        color: cssVar("--break", "#d62828"),
        fontSize: 10,
        formatter: function (p) { return p.value[2] ? data.names["break"] + " " + p.value[2] : ""; },
      },
      data: breaks,
    });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 64, top: 34, bottom: 8, containLabel: true },
      legend: { top: 0, itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 11 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef1f5" } } },
      // a long (English) chain name wraps to two lines rather than squeezing the bars
      yAxis: {
        type: "category",
        data: chains,
        axisLabel: {
          fontSize: 12,
          lineHeight: 14,
          width: Math.max(96, Math.round(el.clientWidth * 0.3)),
          overflow: "break",
        },
      },
      series: series,
    });
  }

  function trendChart(el) {
    var data = json(el.dataset.trendChart);
    if (!data) return;
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    keepViewBox(chart, el);
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 8, top: 30, bottom: 4, containLabel: true },
      legend: { top: 0, itemWidth: 14, itemHeight: 8, textStyle: { fontSize: 11 } },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.years.map(String), axisLabel: { fontSize: 10 } },
      yAxis: [
        { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef1f5" } }, axisLabel: { fontSize: 10 } },
        { type: "value", minInterval: 1, splitLine: { show: false }, axisLabel: { fontSize: 10 } },
      ],
      series: [
        { name: data.labels.active, type: "line", data: data.active, symbolSize: 5, lineStyle: { width: 2, color: "#2b5c8f" }, itemStyle: { color: "#2b5c8f" }, label: { show: true, fontSize: 9, position: "top" } },
        { name: data.labels.births, type: "bar", yAxisIndex: 1, data: data.births, barMaxWidth: 10, itemStyle: { color: "#8fc9a3" } },
        { name: data.labels.deaths, type: "bar", yAxisIndex: 1, data: data.deaths, barMaxWidth: 10, itemStyle: { color: "#e8a6a6" } },
      ],
    });
  }

  function mountAll(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-status-chart]").forEach(function (el) {
      if (!el.dataset.ready) { el.dataset.ready = "1"; statusChart(el); }
    });
    root.querySelectorAll("[data-trend-chart]").forEach(function (el) {
      if (!el.dataset.ready) { el.dataset.ready = "1"; trendChart(el); }
    });
  }

  if (window.htmx) window.htmx.onLoad(function (el) { mountAll(el); });
  mountAll(document);
})();
