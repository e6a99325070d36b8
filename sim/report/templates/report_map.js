// The report's interactive map: Leaflet with no tiles; the city is drawn from the run's layers.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("map-data").textContent);
  var map = L.map("map", { zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix("Leaflet " + L.version);
  map.attributionControl.addAttribution(D.attribution);
  map.fitBounds(D.bounds);
  var panes = { water: 250, network: 300, streets: 400, routes: 450, site: 500, cameras: 600, edits: 650 };
  Object.keys(panes).forEach(function (name) {
    map.createPane(name).style.zIndex = panes[name];
  });

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmt(v, d) {
    return Number(v).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  function colourOf(v, breaks) {
    for (var i = 0; i < breaks.length; i++) if (v <= breaks[i]) return D.ramp[i];
    return D.ramp[breaks.length - 1];
  }

  L.geoJSON(D.water, { pane: "water", interactive: false,
    style: { stroke: false, fillColor: "#cfe3f1", fillOpacity: 1 } }).addTo(map);
  L.geoJSON(D.boroughs, { pane: "water", interactive: false,
    style: { color: "#6b6b6b", weight: 1.2, dashArray: "5 4", fill: false } }).addTo(map);
  L.polyline(D.network, { pane: "network", interactive: false, color: "#c4c4c4", weight: 1,
    className: "network" }).addTo(map);

  // Streets: one base layer per measure, coloured by classes with a legend
  var bases = {};
  D.measures.forEach(function (m) {
    var group = L.layerGroup();
    D.streets.forEach(function (s) {
      var v = s[m.key];
      if (!(v > 0)) return;
      L.polyline(s.line, { pane: "streets", color: colourOf(v, m.breaks), weight: 3.5, opacity: 0.95,
        className: "street street-" + m.key })
        .bindTooltip(
          "<b>" + esc(m.label) + ": " + fmt(v, m.decimals) + " " + esc(m.unit) + "</b><br>" +
          "protesters passing: " + fmt(s.traffic, 1) + " per replication<br>" +
          "protester-minutes in view: " + fmt(s.minutes, 1) + " per replication<br>" +
          "in view of a camera: " + fmt(100 * s.share, 0) + "% of its " + fmt(s.length, 0) + " m",
          { sticky: true })
        .addTo(group);
    });
    bases[m.title] = group;
    m.layer = group;
  });
  D.measures[0].layer.addTo(map);

  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () { this._div = L.DomUtil.create("div", "legend"); return this._div; };
  legend.show = function (m) {
    var rows = ["<b>" + esc(m.title) + "</b><span>" + esc(m.unit_long) + "</span><br>"];
    var lo = 0;
    m.breaks.forEach(function (b, i) {
      rows.push('<i style="background:' + D.ramp[i] + '"></i>' + fmt(lo, m.decimals) + " to " +
        fmt(b, m.decimals) + "<br>");
      lo = b;
    });
    rows.push('<i style="background:#c4c4c4;height:2px"></i>other streets (walk network)<br>');
    D.classes.forEach(function (c) {
      rows.push('<i style="background:' + c.colour + ';height:9px;width:9px;border-radius:5px"></i>camera site: ' +
        esc(c.label) + "<br>");
    });
    rows.push('<i style="background:#cfe3f1;height:9px"></i>water');
    this._div.innerHTML = rows.join("");
  };
  legend.addTo(map);
  legend.show(D.measures[0]);
  map.on("baselayerchange", function (e) {
    D.measures.forEach(function (m) { if (m.layer === e.layer) legend.show(m); });
  });

  var overlays = {};
  // Assembly site area
  var site = L.polygon(D.site.ring, { pane: "site", color: "#2ca02c", weight: 2.5, fillOpacity: 0.12,
    className: "site" }).bindTooltip(esc(D.site.label), { sticky: true });
  site.addTo(map);
  overlays["Assembly site area"] = site;

  // Most used routes
  var routes = L.layerGroup();
  D.routes.forEach(function (r) {
    L.polyline(r.line, { pane: "routes", color: "#e8590c", weight: 2, dashArray: "6 5", opacity: 0.9,
      className: "route" })
      .bindTooltip("route " + r.rank + " (" + esc(r.leg) + "): " + esc(r.stations) + "<br>" +
        fmt(r.protesters, 1) + " protesters per replication, " + fmt(r.length, 0) + " m, " +
        fmt(100 * r.share, 0) + "% in view", { sticky: true })
      .addTo(routes);
  });
  overlays["Most used routes (" + D.routes.length + ")"] = routes;

  // Camera sites by class and source, each with a popup
  function cameraPopup(c) {
    var src = D.sources[c.source] || {};
    return '<div class="camera-popup"><b>camera site</b> <code>' + esc(c.id) + "</code><table>" +
      "<tr><th>class</th><td>" + esc(c.cls) + "</td></tr>" +
      "<tr><th>source</th><td>" + esc(c.source) + "</td></tr>" +
      "<tr><th>cameras</th><td>" + fmt(c.count, c.count % 1 ? 2 : 0) + "</td></tr>" +
      "<tr><th>reach: seen</th><td>" + fmt(c.seen, 0) + " m</td></tr>" +
      "<tr><th>reach: recognition</th><td>" + fmt(c.rec, 0) + " m</td></tr>" +
      "<tr><th>reach: identification</th><td>" + fmt(c.ident, 0) + " m</td></tr>" +
      "<tr><th>record from</th><td>" + esc(src.file || c.source) + "<br>" + esc(src.credit || "") +
      "<br>licence: " + esc(src.licence || "") + (src.as_of ? ", as of " + esc(src.as_of) : "") +
      "</td></tr></table></div>";
  }
  D.camera_groups.forEach(function (g) {
    var group = L.layerGroup();
    g.cameras.forEach(function (c) {
      L.circleMarker([c.lat, c.lon], { pane: "cameras", radius: Math.min(3 + Math.sqrt(c.count), 9),
        color: "#ffffff", weight: 1, fillColor: g.colour, fillOpacity: 0.95, className: "camera" })
        .bindTooltip(esc(c.cls) + ": " + fmt(c.count, c.count % 1 ? 2 : 0) + " camera(s), reach " +
          fmt(c.seen, 0) + " m")
        .bindPopup(cameraPopup(c))
        .addTo(group);
    });
    group.addTo(map);
    overlays["Cameras: " + g.label + " (" + g.cameras.length + ")"] = group;
  });

  // Cameras a scenario removed or added
  D.edit_groups.forEach(function (g) {
    var group = L.layerGroup();
    g.cameras.forEach(function (c) {
      L.circleMarker([c.lat, c.lon], { pane: "edits", radius: 6, color: g.action === "removed" ? "#000000" : "#2ca02c",
        weight: 2, fill: g.action !== "removed", fillOpacity: 0.6, dashArray: g.action === "removed" ? "2 2" : null,
        className: "edited-camera" })
        .bindTooltip(esc(g.label) + "<br><code>" + esc(c.id) + "</code> (" + esc(c.cls) + ", " +
          fmt(c.count, c.count % 1 ? 2 : 0) + " camera(s))")
        .addTo(group);
    });
    group.addTo(map);
    overlays[g.label + " (" + g.cameras.length + ")"] = group;
  });

  L.control.layers(bases, overlays, { collapsed: false, position: "bottomleft" }).addTo(map);
  L.control.scale({ metric: true, imperial: false, maxWidth: 160 }).addTo(map);
  window.reportMap = map;
})();
