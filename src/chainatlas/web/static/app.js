// chainatlas web: small helpers shared by the pages (charts are set up by each page).
(function () {
  "use strict";
  // resize every ECharts instance with the window
  window.addEventListener("resize", function () {
    if (!window.echarts) return;
    document.querySelectorAll("[_echarts_instance_]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
  // the top bar wraps to two rows on a narrow window: sticky table headers sit below it
  var topbar = document.querySelector(".topbar");
  if (topbar && window.ResizeObserver) {
    new ResizeObserver(function () {
      document.documentElement.style.setProperty("--topbar-h", topbar.offsetHeight + "px");
    }).observe(topbar);
  }
  // let htmx swap error responses (422) so forms show their messages
  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.xhr.status === 422) { evt.detail.shouldSwap = true; evt.detail.isError = false; }
  });
})();
