/* citycase /stats: sortable ranking table and the score chart (ECharts, data from a JSON block). */
(function () {
  "use strict";
  function cellValue(td, numeric) {
    var text = (td.textContent || "").trim();
    if (!numeric) return text;
    var v = parseFloat(text.replace(/[^0-9.+-]/g, ""));
    return isNaN(v) ? -Infinity : v;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var body = table.tBodies[0];
    table.querySelectorAll("thead th").forEach(function (th, index) {
      th.classList.add("sort");
      th.setAttribute("tabindex", "0");
      var numeric = th.getAttribute("data-type") === "num";
      function sort() {
        var down = th.getAttribute("aria-sort") !== "descending";
        table.querySelectorAll("thead th").forEach(function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", down ? "descending" : "ascending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a.cells[index], numeric), y = cellValue(b.cells[index], numeric);
          if (x === y) return 0;
          return (x < y ? -1 : 1) * (down ? -1 : 1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  });
  var el = document.getElementById("stats-chart");
  var data = document.getElementById("stats-chart-data");
  if (!el || !data || typeof echarts === "undefined") return;
  var cfg = JSON.parse(data.textContent);
  var chart = echarts.init(el);
  chart.setOption({
    grid: [{ left: 40, right: "36%", top: 30, bottom: 80 }],
    tooltip: { trigger: "item" },
    xAxis: [{ type: "category", data: cfg.names, axisLabel: { rotate: 40, interval: 0, fontSize: 10 } }],
    yAxis: [{ type: "value", min: 0, max: 100 }],
    series: [
      { type: "bar", name: cfg.title, data: cfg.scores, itemStyle: { color: "#2c6fbb" } },
      { type: "pie", radius: ["25%", "45%"], center: ["82%", "50%"],
        data: cfg.grades.map(function (g) { return { name: g[0], value: g[1] }; }),
        label: { formatter: "{b}: {c}" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
