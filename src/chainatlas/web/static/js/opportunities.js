// 机会 page: opportunities as points, feasibility (relatedness density) across, value
// (COG, or PCI when COG is undefined) up, one colour per kind (build / extend / fill).
(function () {
  "use strict";
  var COLOURS = { build: "#2b5c8f", extend: "#d18b0f", fill: "#2e9656" };

  function escape(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function draw() {
    var el = document.getElementById("opp-chart");
    var source = document.getElementById("opp-chart-data");
    if (!el || !source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(el);
    var series = data.kinds.map(function (kind) {
      return {
        name: kind.name,
        type: "scatter",
        symbolSize: function (value) { return 10 + 26 * Math.max(0, value[2]); },
        itemStyle: { color: COLOURS[kind.id] || "#888", opacity: 0.85 },
        label: { show: true, formatter: function (p) { return p.data.rank; }, fontSize: 10, color: "#fff" },
        emphasis: { focus: "series" },
        data: data.points.filter(function (p) { return p.kind === kind.id; }).map(function (p) {
          return { value: [p.x, p.y, p.score], rank: p.rank, label_text: p.label };
        }),
      };
    });
    chart.setOption({
      animation: false,
      grid: { left: 64, right: 32, top: 40, bottom: 56 },
      legend: { top: 4 },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var v = p.data.value;
          return "#" + p.data.rank + " " + escape(p.data.label_text) + "<br>" + escape(p.seriesName) +
            "<br>" + escape(data.x_name) + ": " + v[0].toFixed(3) + "<br>" + escape(data.y_name) + ": " +
            v[1].toFixed(2) + "<br>" + escape(data.score) + ": " + v[2].toFixed(3);
        },
      },
      xAxis: { type: "value", name: data.x_name, nameLocation: "middle", nameGap: 30, scale: true },
      yAxis: { type: "value", name: data.y_name, nameLocation: "middle", nameGap: 44, scale: true },
      series: series,
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
