/* citycase /stats/hotspots: heat circles per grid cell (Leaflet), trend and forecast charts (ECharts). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("hotspot-data").textContent);
  var mapEl = document.getElementById("hot-map");
  if (mapEl && typeof L !== "undefined") {
    var map = L.map(mapEl, { attributionControl: !!data.tiles });
    if (data.tiles) L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map);
    else mapEl.classList.add("blank");
    var max = data.heat.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
    var bounds = [];
    data.heat.forEach(function (c) {
      var t = c[2] / max;
      var color = t > 0.66 ? "#c0392b" : (t > 0.33 ? "#e67e22" : "#f1c40f");
      L.circleMarker([c[0], c[1]], { radius: 4 + 14 * Math.sqrt(t), color: color, fillColor: color,
                                     fillOpacity: 0.55, weight: 1 })
        .bindTooltip(c[3] + ": " + c[2]).addTo(map);
      bounds.push([c[0], c[1]]);
    });
    if (bounds.length) map.fitBounds(bounds, { padding: [20, 20] });
    else map.setView([30.27, 120.19], 13);
  }
  if (typeof echarts === "undefined") return;
  var trendEl = document.getElementById("trend-chart");
  if (trendEl) {
    echarts.init(trendEl).setOption({
      tooltip: { trigger: "axis" }, legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.trend.labels }, yAxis: { type: "value", minInterval: 1 },
      series: data.trend.series.map(function (s) { return { name: s.name, type: "line", data: s.values }; })
    });
  }
  var fcEl = document.getElementById("forecast-chart");
  if (fcEl && data.forecast.length) {
    var days = data.forecast[0].days;
    var series = [];
    data.forecast.forEach(function (f) {
      series.push({ name: f.name, type: "line", data: f.values });
      series.push({ name: f.name, type: "line", data: f.high, lineStyle: { type: "dashed", opacity: 0.5 }, symbol: "none" });
    });
    echarts.init(fcEl).setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: days }, yAxis: { type: "value" }, series: series
    });
  }
})();
