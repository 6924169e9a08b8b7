/* citycase /command: polls the JSON endpoint and updates counts, lights, the per-grid map and the latest reports. */
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("command-settings").textContent);
  var map = null, layer = null, fitted = false, seen = {};
  var mapEl = document.getElementById("command-map");
  if (mapEl && typeof L !== "undefined") {
    map = L.map(mapEl, { attributionControl: false, zoomControl: true });
    if (settings.tiles) L.tileLayer(settings.tiles, { maxZoom: 19 }).addTo(map);
    map.setView([30.27, 120.19], 13);
    layer = L.layerGroup().addTo(map);
  }
  var lang = document.documentElement.lang || undefined;
  function text(el, value) { el.textContent = value; }
  function tickClock() {
    text(document.getElementById("clock"), new Date().toLocaleString(lang, { hour12: false }));
  }
  function drawMap(points) {
    if (!layer) return;
    layer.clearLayers();
    var bounds = [];
    points.forEach(function (p) {
      var size = Math.min(48, 16 + Math.round(Math.sqrt(p.open) * 6));
      var icon = L.divIcon({ className: "grid-marker" + (p.overdue ? " hot" : ""), html: String(p.open),
                             iconSize: [size, size] });
      var m = L.marker([p.lat, p.lon], { icon: icon, title: p.grid + ": " + p.open });
      layer.addLayer(m);
      bounds.push([p.lat, p.lon]);
    });
    if (!fitted && bounds.length) { map.fitBounds(bounds, { padding: [30, 30] }); fitted = true; }
  }
  function drawLights(rows) {
    var body = document.getElementById("lights");
    body.textContent = "";
    rows.forEach(function (d) {
      var tr = document.createElement("tr");
      [d.name, d.green, d.yellow, d.red].forEach(function (v, i) {
        var td = document.createElement("td");
        td.textContent = v;
        if (i === 3 && d.red) td.className = "r";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function drawLatest(rows) {
    var ul = document.getElementById("latest");
    ul.textContent = "";
    var first = Object.keys(seen).length === 0;
    rows.forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = r.local_time + "  " + r.number + "  " + r.class_name;
      if (!first && !seen[r.number]) li.className = "new";
      seen[r.number] = true;
      ul.appendChild(li);
    });
  }
  function refresh() {
    fetch(settings.data, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        Object.keys(data.today).forEach(function (k) {
          var el = document.querySelector('[data-count="' + k + '"]');
          if (el) text(el, data.today[k]);
        });
        text(document.querySelector('[data-count="open_cases"]'), data.open_cases);
        drawLights(data.departments);
        drawLatest(data.latest);
        drawMap(data.grid);
        document.body.setAttribute("data-updated", data.at);
      })
      .catch(function () { document.body.setAttribute("data-error", "1"); });
  }
  tickClock();
  setInterval(tickClock, 1000);
  refresh();
  setInterval(refresh, settings.poll * 1000);
})();
