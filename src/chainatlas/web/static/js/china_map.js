// Where a chain's firms are: an ECharts map of China's provinces, shaded by firm count, the
// province of the current region outlined red.
//
// Markup: <div class="china-map" data-china-map="ID-OF-JSON"></div> and
// <script type="application/json" id="ID-OF-JSON">{items: [{code, name, value}], selected,
// max, labels: {high, low, unit}}</script>. The boundaries are the vendored ECharts 4.9.0
// GeoJSON at /static/geo/china.json (features carry the province code as `id`).
(function () {
  "use strict";

  var geo = null;

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

  function loadGeo() {
    if (!geo) {
      geo = fetch("/static/geo/china.json", { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error("china.json: " + r.status);
        return r.json();
      }).then(function (json) {
        if (!window.echarts.getMap("china")) window.echarts.registerMap("china", json);
      });
    }
    return geo;
  }

  function mount(el) {
    if (el.dataset.ready || !window.echarts) return;
    el.dataset.ready = "1";
    var source = document.getElementById(el.dataset.chinaMap);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var breakColour = getComputedStyle(document.documentElement).getPropertyValue("--break").trim() || "#d62828";
    loadGeo().then(function () {
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      keepViewBox(chart, el);
      var items = data.items.map(function (item) {
        var mine = item.code === data.selected;
        return {
          name: item.code,
          value: item.value,
          title: item.name,
          itemStyle: mine ? { borderColor: breakColour, borderWidth: 2.5 } : undefined,
          label: mine ? { show: true, formatter: item.name + "\n" + item.value, color: "#1f2937", fontWeight: "bold", fontSize: 11 } : undefined,
          emphasis: mine ? { itemStyle: { borderColor: breakColour, borderWidth: 2.5 } } : undefined,
        };
      });
      chart.setOption({
        animation: false,
        tooltip: {
          trigger: "item",
          formatter: function (p) {
            var d = p.data || {};
            var esc = window.echarts.format.encodeHTML;
            return esc(d.title || p.name) + "：" + (d.value || 0) + esc(data.labels.unit);
          },
        },
        visualMap: {
          type: "continuous",
          min: 0,
          max: Math.max(1, data.max),
          left: 8,
          bottom: 8,
          itemHeight: 90,
          text: [data.labels.high, data.labels.low],
          inRange: { color: ["#f1f5fa", "#9cc0e6", "#2b5c8f", "#16365c"] },
          calculable: false,
          textStyle: { fontSize: 11 },
        },
        series: [
          {
            type: "map",
            map: "china",
            nameProperty: "id",
            roam: false,
            layoutCenter: ["50%", "56%"],
            layoutSize: "108%",
            selectedMode: false,
            label: { show: false },
            itemStyle: { borderColor: "#8a9bb0", borderWidth: 0.6, areaColor: "#f1f5fa" },
            emphasis: { label: { show: false }, itemStyle: { areaColor: "#ffd98a" } },
            data: items,
          },
        ],
      });
      var pending = null;
      window.addEventListener("resize", function () {
        clearTimeout(pending);
        pending = setTimeout(function () { chart.resize(); }, 120);
      });
    }).catch(function (err) {
      el.textContent = String(err);
    });
  }

  document.querySelectorAll("[data-china-map]").forEach(mount);
  window.ChinaMap = { mount: mount };
})();
