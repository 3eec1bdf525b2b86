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
  // let htmx swap error responses (422) so forms show their messages
  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.xhr.status === 422) { evt.detail.shouldSwap = true; evt.detail.isError = false; }
  });
})();
