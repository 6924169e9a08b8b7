/* citycase: Leaflet maps. Coordinates arrive already in the tiles' datum (WGS-84 or GCJ-02). */
(function () {
  "use strict";
  if (typeof L === "undefined") return;
  document.querySelectorAll("[data-map]").forEach(function (el) {
    var cfg = JSON.parse(el.getAttribute("data-map"));
    var map = L.map(el, { attributionControl: !!cfg.tiles, zoomControl: false });
    L.control.zoom({ zoomInTitle: el.getAttribute("data-zoom-in") || "+",
                     zoomOutTitle: el.getAttribute("data-zoom-out") || "-" }).addTo(map);
    var basemap = L.featureGroup();
    if (cfg.tiles) {
      L.tileLayer(cfg.tiles, { maxZoom: 19, subdomains: cfg.tiles.indexOf("{s}") >= 0 ? "abc" : "" }).addTo(map);
    } else {
      el.classList.add("blank");
      // No tile server: the city's own outlines as a vector basemap (districts, streets, communities).
      var styles = {
        district: { color: "#445566", weight: 3, fill: false },
        street: { color: "#7a8794", weight: 1.5, fill: false },
        community: { color: "#a7b1bb", weight: 1, dashArray: "4 4", fill: false }
      };
      (cfg.outlines || []).forEach(function (shape) {
        var line = L.polygon(shape.ring, Object.assign({ interactive: false }, styles[shape.level] || styles.community))
          .addTo(basemap);
        if (shape.level !== "community") {
          line.bindTooltip(shape.name, { permanent: true, direction: "center",
                                         className: "basemap-label basemap-" + shape.level });
        }
      });
    }
    var marker = null;
    function place(lat, lon) {
      if (marker) marker.setLatLng([lat, lon]);
      else marker = L.circleMarker([lat, lon], { radius: 8, color: "#c0392b", weight: 3 }).addTo(map);
    }
    if (cfg.ring && cfg.ring.length) {
      var poly = L.polygon(cfg.ring, { color: "#2c6fbb", weight: 2, fillOpacity: 0.08 }).addTo(map);
      map.fitBounds(poly.getBounds(), { padding: [40, 40] });
    }
    if (cfg.points && cfg.points.length) {  // the admin's component map: one dot each, the whole set in view
      var dots = L.featureGroup();
      cfg.points.forEach(function (p) {
        L.circleMarker([p[0], p[1]], { radius: 3, color: "#1f5fa8", weight: 1, fillOpacity: 0.6 }).bindTooltip(p[2]).addTo(dots);
      });
      dots.addTo(map);
      map.fitBounds(dots.getBounds(), { padding: [20, 20], maxZoom: 17 });
    } else if (cfg.point) {
      place(cfg.point[0], cfg.point[1]);
      if (!cfg.ring || !cfg.ring.length) map.setView(cfg.point, 17);
    } else if (basemap.getLayers().length) {
      map.fitBounds(basemap.getBounds(), { padding: [10, 10] });  // the whole city
    } else if (cfg.center) {
      map.setView(cfg.center, 14);
    }
    if (basemap.getLayers().length) {
      basemap.addTo(map).bringToBack();  // once the map has a view
      // Street names only when zoomed in far enough for them not to overlap.
      var streetNames = function () { el.classList.toggle("show-streets", map.getZoom() >= 15); };
      map.on("zoomend", streetNames);
      streetNames();
    }
    var pick = el.getAttribute("data-pick");
    if (pick) {
      var ids = pick.split(",");
      map.on("click", function (e) {
        document.getElementById(ids[0]).value = e.latlng.lat.toFixed(7);
        document.getElementById(ids[1]).value = e.latlng.lng.toFixed(7);
        var crs = document.getElementById("coord_crs");
        if (crs) crs.value = cfg.crs || "WGS84";
        place(e.latlng.lat, e.latlng.lng);
        // The form notices (its kept draft, the duplicate hint).
        document.getElementById(ids[0]).dispatchEvent(new Event("input", { bubbles: true }));
      });
      document.addEventListener("citycase:located", function (e) {
        place(e.detail.lat, e.detail.lon);
        map.setView([e.detail.lat, e.detail.lon], 17);
      });
    }
  });
})();
