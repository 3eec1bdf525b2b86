// The region picker (templates/_region_picker.html): choosing a province loads its cities,
// a city its counties (GET /regions/options?parent=); the deepest choice is the region.
(function () {
  "use strict";

  function fill(select, items) {
    while (select.options.length > 1) select.remove(1);
    items.forEach(function (item) {
      select.add(new Option(item.name, item.code));
    });
    select.value = "";
    select.disabled = items.length === 0;
  }

  function init(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-depth]"));
    var hidden = form.querySelector("input[name=region]");

    function chosen() {
      for (var i = selects.length - 1; i >= 0; i--) {
        if (selects[i].value) return selects[i].value;
      }
      return hidden.value;
    }

    selects.forEach(function (select, depth) {
      select.addEventListener("change", function () {
        for (var d = depth + 1; d < selects.length; d++) fill(selects[d], []);
        hidden.value = chosen();
        var next = selects[depth + 1];
        if (!select.value || !next) return;
        fetch("/regions/options?parent=" + encodeURIComponent(select.value), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) { fill(next, items); });
      });
    });
  }

  document.querySelectorAll("form[data-region-picker]").forEach(init);
})();
