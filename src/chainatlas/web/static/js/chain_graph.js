// The chain map (产业链图谱) as an interactive ECharts drawing.
//
// Markup: <div class="chain-graph" data-chain-graph="ID-OF-JSON" [data-panel="#node-panel"]
//   [data-panel-url="/atlas/node?chain=…&region=…"] [data-anchor="node-"]></div> and
// <script type="application/json" id="ID-OF-JSON">…</script> holding readmodel.chain_graph():
// the layout of the printed chain map (stage bands, columns by supply layer, routed edges)
// in layout units, which is scaled to the element's width. Nodes are coloured by status
// with the colours of app.css (--missing-fill, …), breaks outlined red, recycling edges
// dashed green. Clicking a node loads the node panel (htmx) or jumps to the node's row.
(function () {
  "use strict";

  var FONT =
    "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei'," +
    "'WenQuanYi Micro Hei',sans-serif";
  var MIN_SCALE = 0.5; // below this the labels are unreadable: scroll instead

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

  function statusStyles() {
    var out = {};
    var defaults = {
      missing: ["#ffffff", "#9aa3ae", "#6b7280"],
      weak: ["#fdebc4", "#d18b0f", "#5a3b00"],
      present: ["#dcebfb", "#4a86c8", "#12355b"],
      strong: ["#d2efdb", "#2e9656", "#0e3f22"],
    };
    Object.keys(defaults).forEach(function (s) {
      out[s] = {
        fill: cssVar("--" + s + "-fill", defaults[s][0]),
        line: cssVar("--" + s + "-line", defaults[s][1]),
        ink: cssVar("--" + s + "-ink", defaults[s][2]),
      };
    });
    out.none = { fill: "#ffffff", line: "#64748b", ink: "#1f2937" };
    return out;
  }

  function arrowHead(a, colour) {
    var len = 9, half = 4.2;
    var c = Math.cos(a.angle), s = Math.sin(a.angle);
    var bx = a.x - len * c, by = a.y - len * s;
    return {
      type: "polygon",
      silent: true,
      shape: { points: [[a.x, a.y], [bx - half * s, by + half * c], [bx + half * s, by - half * c]] },
      style: { fill: colour },
    };
  }

  function text(str, x, y, opts) {
    return {
      type: "text",
      silent: true,
      style: {
        text: str,
        x: x,
        y: y,
        fill: opts.fill,
        fontSize: opts.size,
        fontWeight: opts.bold ? "bold" : "normal",
        fontFamily: FONT,
        align: opts.align || "center",
        verticalAlign: opts.valign || "middle",
        opacity: opts.opacity == null ? 1 : opts.opacity,
        stroke: opts.halo ? "#ffffff" : null,
        lineWidth: opts.halo ? 3 : 0,
      },
    };
  }

  function background(data) {
    var c = data.colours;
    var kids = [];
    var strip = data.strip, band = data.band;
    data.lanes.forEach(function (lane, i) {
      kids.push({ type: "rect", silent: true, shape: { x: band.x, y: lane.top, width: band.w, height: lane.height }, style: { fill: lane.fill } });
      kids.push({ type: "rect", silent: true, shape: { x: strip.x, y: lane.top, width: strip.w, height: lane.height }, style: { fill: strip.fill } });
      if (i) {
        kids.push({ type: "line", silent: true, shape: { x1: strip.x, y1: lane.top, x2: band.x + band.w, y2: lane.top }, style: { stroke: "#c9d5e3", lineWidth: 1 } });
      }
      var cx = strip.x + strip.w / 2, cy = lane.top + lane.height / 2;
      kids.push(text(lane.name, cx, cy - 6, { fill: strip.ink, size: 15, bold: true }));
      kids.push(text(lane.sub, cx, cy + 12, { fill: "#5b708a", size: 9.5 }));
    });
    kids.push({
      type: "rect",
      silent: true,
      shape: { x: strip.x, y: data.lanes_top, width: band.x + band.w - strip.x, height: data.lanes_bottom - data.lanes_top },
      style: { fill: "none", stroke: "#c9d5e3" },
    });
    data.edges.forEach(function (e) {
      var colour = e.recycling ? c.recycling : e.faded ? c.faded : c.edge;
      kids.push({
        type: "path",
        silent: true,
        shape: { pathData: e.d },
        style: {
          fill: "none",
          stroke: colour,
          lineWidth: e.recycling ? 1.8 : 1.4,
          lineDash: e.recycling ? [7, 4] : null,
        },
      });
      if (e.arrow) kids.push(arrowHead(e.arrow, colour));
      if (e.label && e.label_at) {
        kids.push(text(e.label, e.label_at[0], e.label_at[1], { fill: c.recycling, size: 11.5, valign: "bottom", halo: true }));
      }
    });
    return kids;
  }

  function nodeShape(data, n, styles, selected) {
    var st = styles[n.status || "none"];
    var c = data.colours;
    var kids = [];
    var stroke = n["break"] ? c["break"] : st.line;
    var width = n["break"] ? 3.2 : 1.4;
    if (selected) {
      stroke = "#1d3a5f";
      width = 3.4;
    }
    kids.push({
      type: "rect",
      shape: { x: n.x, y: n.y, width: n.w, height: n.h, r: 8 },
      style: {
        fill: st.fill,
        stroke: stroke,
        lineWidth: width,
        lineDash: n.status === "missing" && !n["break"] && !selected ? [5, 3] : null,
        shadowBlur: selected ? 10 : 0,
        shadowColor: "rgba(29,58,95,.35)",
      },
      emphasis: { style: { shadowBlur: 10, shadowColor: "rgba(29,58,95,.35)" } },
    });
    var block = n.lines.length * n.line + (n.stats ? 14 : 0);
    var y = n.y + n.h / 2 - block / 2 + n.line / 2;
    n.lines.forEach(function (line) {
      kids.push(text(line, n.x + n.w / 2, y, { fill: st.ink, size: n.size, bold: true }));
      y += n.line;
    });
    if (n.stats) {
      kids.push(text(n.stats, n.x + n.w / 2, y + 2, { fill: st.ink, size: data.stat_size, opacity: 0.85 }));
    }
    if (n["break"]) {
      var label = data.labels["break"];
      var bw = label.length * 10.5 + 16;
      var bx = n.x + n.w - bw + 6, by = n.y - 9;
      kids.push({ type: "rect", silent: true, shape: { x: bx, y: by, width: bw, height: 17, r: 8.5 }, style: { fill: c["break"] } });
      kids.push(text(label, bx + bw / 2, by + 8.5, { fill: "#ffffff", size: 10.5, bold: true }));
    }
    return kids;
  }

  function mount(el) {
    if (el.dataset.ready || !window.echarts) return;
    el.dataset.ready = "1";
    var source = document.getElementById(el.dataset.chainGraph);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var styles = statusStyles();
    var selected = el.dataset.selected || null;
    el.style.minWidth = Math.round(data.width * MIN_SCALE) + "px";
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    keepViewBox(chart, el);

    function scale(api) {
      return api.getWidth() / data.width;
    }

    function option() {
      return {
        animation: false,
        tooltip: {
          trigger: "item",
          confine: true,
          formatter: function (p) {
            var n = data.nodes[p.dataIndex];
            if (!n) return "";
            var esc = window.echarts.format.encodeHTML;
            return "<strong>" + esc(n.name) + "</strong>" + (n.stats ? "<br>" + esc(n.stats) : "") +
              (n["break"] ? "<br><span style=\"color:" + data.colours["break"] + "\">" + esc(data.labels["break"]) + "</span>" : "");
          },
        },
        series: [
          {
            type: "custom",
            coordinateSystem: "none",
            silent: true,
            z: 1,
            data: [0],
            renderItem: function (params, api) {
              var s = scale(api);
              return { type: "group", scaleX: s, scaleY: s, children: background(data) };
            },
          },
          {
            type: "custom",
            coordinateSystem: "none",
            z: 2,
            data: data.nodes.map(function (n, i) { return i; }),
            renderItem: function (params, api) {
              var s = scale(api);
              var n = data.nodes[params.dataIndex];
              return { type: "group", scaleX: s, scaleY: s, children: nodeShape(data, n, styles, n.id === selected) };
            },
          },
        ],
      };
    }

    function fit() {
      var width = el.clientWidth;
      if (!width) return; // hidden (printing: the static map shows instead)
      el.style.height = Math.round((data.height * width) / data.width) + "px";
      chart.resize();
    }

    fit();
    chart.setOption(option());
    chart.on("click", function (p) {
      if (p.seriesIndex !== 1) return;
      var n = data.nodes[p.dataIndex];
      if (!n) return;
      select(n.id);
    });

    function select(id) {
      selected = id;
      el.dataset.selected = id;
      chart.setOption(option(), { replaceMerge: ["series"] });
      document.querySelectorAll("tr[data-node]").forEach(function (row) {
        row.classList.toggle("selected", row.dataset.node === id);
      });
      if (el.dataset.panel && window.htmx) {
        var url = el.dataset.panelUrl + "&node=" + encodeURIComponent(id);
        window.htmx.ajax("GET", url, { target: el.dataset.panel, swap: "innerHTML" });
        if (window.history && window.history.replaceState) {
          var page = new URL(window.location.href);
          page.searchParams.set("node", id);
          window.history.replaceState(null, "", page.toString());
        }
      } else if (el.dataset.anchor) {
        var row = document.getElementById(el.dataset.anchor + id);
        if (row) {
          row.scrollIntoView({ behavior: "smooth", block: "center" });
          row.classList.add("flash");
          setTimeout(function () { row.classList.remove("flash"); }, 1600);
        }
      }
    }

    el.chainGraphSelect = select;
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(fit, 120);
    });
  }

  function mountAll(root) {
    (root || document).querySelectorAll("[data-chain-graph]").forEach(mount);
  }

  // links elsewhere on the page (node list) select a node on the graph
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("[data-graph-node]");
    if (!link) return;
    var graph = document.querySelector("[data-chain-graph]");
    if (!graph || !graph.chainGraphSelect) return;
    evt.preventDefault();
    graph.chainGraphSelect(link.dataset.graphNode);
  });

  window.ChainGraph = { mount: mount, mountAll: mountAll };
  mountAll(document);
})();
