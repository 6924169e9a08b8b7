/* citycase: the shift leader's field map: the city's outlines (or tiles), the supervisors' tracks of
   the day and each device's last state, as layers that can be switched on and off. */
(function () {
  "use strict";
  if (typeof L === "undefined") return;
  var el = document.getElementById("fieldmap");
  if (!el) return;
  var cfg = JSON.parse(el.getAttribute("data-fieldmap"));
  var map = L.map(el, { attributionControl: !!cfg.tiles });
  var basemap = L.featureGroup();
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles, { maxZoom: 19, subdomains: cfg.tiles.indexOf("{s}") >= 0 ? "abc" : "" }).addTo(map);
  } else {
    el.classList.add("blank");
    var styles = { district: { color: "#445566", weight: 3, fill: false },
                   street: { color: "#7a8794", weight: 1.5, fill: false },
                   community: { color: "#a7b1bb", weight: 1, dashArray: "4 4", fill: false } };
    (cfg.outlines || []).forEach(function (shape) {
      var line = L.polygon(shape.ring, Object.assign({ interactive: false }, styles[shape.level] || styles.community))
        .addTo(basemap);
      if (shape.level === "district") {
        line.bindTooltip(shape.name, { permanent: true, direction: "center", className: "basemap-label basemap-district" });
      }
    });
  }
  var colours = ["#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#2ca02c", "#7f7f7f", "#bcbd22"];
  var tracks = L.featureGroup();
  (cfg.tracks || []).forEach(function (t, i) {
    var colour = colours[i % colours.length];
    L.polyline(t.line, { color: colour, weight: 4, opacity: 0.85 }).bindTooltip(t.user).addTo(tracks);
    var end = t.line[t.line.length - 1];
    L.circleMarker(end, { radius: 6, color: colour, fillColor: "#fff", fillOpacity: 1, weight: 3 })
      .bindTooltip(t.user + " · " + cfg.labels.last + " " + t.last, { permanent: true, direction: "right",
                                                                       className: "track-label" })
      .addTo(tracks);
  });
  var stateColour = { normal: "#2e8540", alarm: "#c0392b", silent: "#7f8c8d" };
  var devices = L.featureGroup();
  (cfg.devices || []).forEach(function (d) {
    L.circleMarker([d.lat, d.lon], { radius: 7, color: "#222", weight: 1, fillColor: stateColour[d.state] || "#999",
                                     fillOpacity: 0.95, className: "device-marker device-" + d.state })
      .bindTooltip(d.id + " · " + d.kind + " · " + d.state_label + (d.value !== null ? " · " + d.value : "") +
                   (d.seen ? " · " + d.seen : ""))
      .addTo(devices);
  });
  tracks.addTo(map);
  devices.addTo(map);
  var overlays = {};
  overlays[cfg.labels.tracks] = tracks;
  overlays[cfg.labels.devices] = devices;
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  if (tracks.getLayers().length) map.fitBounds(tracks.getBounds(), { padding: [40, 40], maxZoom: 17 });
  else if (basemap.getLayers().length) map.fitBounds(basemap.getBounds(), { padding: [10, 10] });
  else map.setView(cfg.center, 13);
  if (basemap.getLayers().length) basemap.addTo(map).bringToBack();
})();
