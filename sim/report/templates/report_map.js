// The report's interactive map: Leaflet with no tiles; the city is drawn from the run's layers.
// The key and the layer switches sit in a panel beside the map (below it on a narrow screen),
// never on top of it. A comparison's map shows any scenario, or the change between two.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("map-data").textContent);
  var comparison = D.scenarios.length > 1;
  var map = L.map("map", { zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix("Leaflet " + L.version);
  map.attributionControl.addAttribution(D.attribution);
  map.fitBounds(D.bounds);
  var panes = { water: 250, network: 300, streets: 400, routes: 450, site: 500, cameras: 600,
    stations: 620, edits: 650, labels: 660 };
  Object.keys(panes).forEach(function (name) {
    map.createPane(name).style.zIndex = panes[name];
  });
  map.getPane("labels").style.pointerEvents = "none";

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmt(v, d, signed) {
    var text = Math.abs(v).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
    var zero = Number(text.replace(/,/g, "")) === 0;
    return (v < 0 && !zero ? "\u2212" : signed && !zero ? "+" : "") + text;
  }
  function classOf(v, breaks) {
    for (var i = 0; i < breaks.length; i++) if (v <= breaks[i]) return i;
    return breaks.length - 1;
  }
  function swatch(style) { return '<span class="key-sym"><i style="' + style + '"></i></span>'; }
  function line(colour, extra) { return swatch("background:" + colour + ";height:4px;" + (extra || "")); }
  function dot(colour, border) {
    return swatch("background:" + colour + ";width:10px;height:10px;border-radius:50%;" +
      (border ? "border:2px solid " + border + ";" : ""));
  }

  // ---------------------------------------------------------------- what the map shows now
  // view: {kind: "run", run: i} or {kind: "change", run: i} (scenario i minus the first)
  var state = {
    view: comparison ? { kind: "change", run: 1 } : { kind: "run", run: 0 },
    measure: comparison ? D.measures[1] : D.measures[0]
  };
  function shownRun() { return state.view.run; }
  function scenarioWords(view) {
    return view.kind === "change"
      ? "change: " + D.scenarios[view.run] + " minus " + D.scenarios[0]
      : D.scenarios[view.run] + (comparison && view.run === 0 ? " (baseline)" : "");
  }

  // ------------------------------------------------------------------------ the city
  L.geoJSON(D.water, { pane: "water", interactive: false,
    style: { stroke: false, fillColor: "#cfe3f1", fillOpacity: 1 } }).addTo(map);
  L.geoJSON(D.boroughs, { pane: "water", interactive: false,
    style: { color: "#6b6b6b", weight: 1.2, dashArray: "5 4", fill: false } }).addTo(map);
  L.polyline(D.network, { pane: "network", interactive: false, color: "#c4c4c4", weight: 1,
    className: "network" }).addTo(map);

  // ---------------------------------------------------- streets: one base layer per measure
  var bases = {};
  D.measures.forEach(function (m) {
    m.layer = L.layerGroup();
    bases[m.title] = m.layer;
  });
  function streetValues(s, i) {
    var v = s.v[i];
    return v ? "protesters passing: " + fmt(v[0], 1) + " per replication<br>" +
      "protester-minutes in view: " + fmt(v[1], 1) + " per replication<br>" +
      "in view of a camera: " + fmt(v[2], 0) + "% of its " + fmt(s.length, 0) + " m"
      : "not walked";
  }
  function drawStreets() {
    var m = state.measure, view = state.view, j = m.index;
    D.measures.forEach(function (other) { other.layer.clearLayers(); });
    D.streets.forEach(function (s) {
      var colour, tip;
      if (view.kind === "run") {
        var v = s.v[view.run];
        if (!v || !(v[j] > 0)) return;
        colour = D.ramp[classOf(v[j], m.breaks)];
        tip = "<b>" + esc(m.label) + ": " + fmt(v[j], m.decimals) + " " + esc(m.unit) + "</b>" +
          (comparison ? " (" + esc(D.scenarios[view.run]) + ")" : "") + "<br>" + streetValues(s, view.run);
      } else {
        var a = s.v[0] ? s.v[0][j] : 0, b = s.v[view.run] ? s.v[view.run][j] : 0, d = b - a;
        if (Math.abs(d) < 1e-9) return;
        var k = classOf(Math.abs(d), m.change_breaks);
        colour = d < 0 ? D.change_down[k] : D.change_up[k];
        tip = "<b>change in " + esc(m.label) + ": " + fmt(d, m.decimals, true) + " " + esc(m.unit) +
          "</b><br>" + esc(D.scenarios[0]) + ": " + fmt(a, m.decimals) + " &rarr; " +
          esc(D.scenarios[view.run]) + ": " + fmt(b, m.decimals);
      }
      L.polyline(s.line, { pane: "streets", color: colour, weight: 3.5, opacity: 0.95,
        className: "street street-" + m.key + (view.kind === "change" ? " street-change" : "") })
        .bindTooltip(tip, { sticky: true })
        .addTo(m.layer);
    });
  }

  // ------------------------------------------------------------------------ the site
  var site = L.layerGroup();
  L.polygon(D.site.ring, { pane: "site", color: D.site.colour, weight: 2.5, fillColor: D.site.colour,
    fillOpacity: 0.28, className: "site" })
    .bindTooltip(esc(D.site.label) + (D.site.walks_inside ? "<br>protesters spread over the area " +
      "to stand (" + fmt(D.site.walks_inside, 0) + " walks from its corner; in streets.parquet)" : ""),
      { sticky: true })
    .addTo(site);
  var labelItems = [];  // every place name on the map, most important first
  function label(group, latlng, cls, html, priority, options) {
    var marker = L.marker(latlng, { pane: "labels", interactive: false, keyboard: false,
      icon: L.divIcon({ className: "map-label " + cls, html: html, iconSize: null }) });
    marker.addTo(group);
    labelItems.push({ marker: marker, priority: priority, options: options });
    return marker;
  }
  label(site, D.site.centre, "site-label", "<span>" + esc(D.site.name) + "</span>", 0, function (w, h) {
    var p = map.latLngToContainerPoint(D.site.centre);
    return [{ box: box(p.x, p.y, w, h, 0), apply: function () {} }];
  });
  site.addTo(map);

  // ------------------------------------------------- the stations protesters come from
  var stations = L.layerGroup();
  D.stations.forEach(function (s, i) {
    L.marker([s.lat, s.lon], { pane: "stations", keyboard: false,
      icon: L.divIcon({ className: "station", html: "<i></i>", iconSize: [12, 12] }) })
      .bindTooltip("<b>" + esc(s.name) + "</b> (subway)<br>" + fmt(100 * s.share, 1) +
        "% of the protesters come out of its " + s.exits + " exit" + (s.exits === 1 ? "" : "s"))
      .addTo(stations);
    if (!s.label) return;
    var marker = label(stations, [s.lat, s.lon], "station-label", "<span>" + esc(s.name) + "</span>", 1 + i,
      function (w, h) {
        var p = map.latLngToContainerPoint([s.lat, s.lon]);
        var sides = { right: [9 + w / 2, 0], left: [-9 - w / 2, 0], above: [0, -8 - h / 2], below: [0, 8 + h / 2] };
        return Object.keys(sides).map(function (side) {
          return { box: box(p.x + sides[side][0], p.y + sides[side][1], w, h, 0), apply: function () {
            var el = marker.getElement();
            Object.keys(sides).forEach(function (o) { el.classList.remove("pos-" + o); });
            el.classList.add("pos-" + side);
          } };
        });
      });
  });
  stations.addTo(map);

  // ------------------------------------------------------------- names of major streets
  var names = L.layerGroup();
  D.street_labels.forEach(function (s, i) {
    var marker = label(names, [s.at[0][0], s.at[0][1]], "street-label", "<span>" + esc(s.name) + "</span>",
      100 + i, function (w, h) {
        return s.at.map(function (at) {
          var p = map.latLngToContainerPoint([at[0], at[1]]);
          return { box: box(p.x, p.y, w, h, -at[2]), apply: function () {
            marker.setLatLng([at[0], at[1]]);
            marker.getElement().firstElementChild.style.transform =
              "translate(-50%,-50%) rotate(" + (-at[2]) + "deg)";
          } };
        });
      });
  });
  names.addTo(map);

  // ----------------------------------------------------------------- most used routes
  var routes = L.layerGroup();
  function drawRoutes() {
    routes.clearLayers();
    (D.routes[shownRun()] || []).forEach(function (r) {
      L.polyline(r.line, { pane: "routes", color: "#e8590c", weight: 2, dashArray: "6 5", opacity: 0.9,
        className: "route" })
        .bindTooltip("route " + r.rank + " (" + esc(r.leg) + "): " + esc(r.stations) + "<br>" +
          fmt(r.protesters, 1) + " protesters per replication, " + fmt(r.length, 0) + " m, " +
          fmt(100 * r.share, 0) + "% in view", { sticky: true })
        .addTo(routes);
    });
  }

  // ----------------------------------------- camera sites by class and source, with popups
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
  D.camera_groups.forEach(function (g) { g.layer = L.layerGroup(); });
  // markers shrink when the map is zoomed out (a phone's first view), so that streets show
  function markerScale() { var z = map.getZoom(); return z >= 14 ? 1 : z >= 13.5 ? 0.8 : 0.65; }
  function cameraRadius(c) { return Math.min(3 + Math.sqrt(c.count), 9) * markerScale(); }
  map.on("zoomend", function () {
    D.camera_groups.forEach(function (g) {
      g.layer.eachLayer(function (m) { m.setRadius(cameraRadius(m.camera)); });
    });
    D.edit_groups.forEach(function (g) {
      g.layer.eachLayer(function (m) { m.setRadius(6 * markerScale()); });
    });
  });
  function drawCameras() {
    var i = shownRun();
    D.camera_groups.forEach(function (g) {
      g.layer.clearLayers();
      g.shown = 0;
      g.cameras.forEach(function (c) {
        if (!c["in"][i]) return;
        g.shown += 1;
        L.circleMarker([c.lat, c.lon], { pane: "cameras", radius: cameraRadius(c),
          color: "#ffffff", weight: 1, fillColor: g.colour, className: "camera",
          // in a change, the cameras both scenarios have step back: what changed stands out
          fillOpacity: state.view.kind === "change" ? 0.4 : 0.95, opacity: state.view.kind === "change" ? 0.4 : 1 })
          .bindTooltip(esc(c.cls) + ": " + fmt(c.count, c.count % 1 ? 2 : 0) + " camera(s), reach " +
            fmt(c.seen, 0) + " m")
          .bindPopup(cameraPopup(c))
          .addTo(g.layer).camera = c;
      });
    });
  }

  // -------------------------------------------------- cameras a scenario removed or added
  D.edit_groups.forEach(function (g) {
    g.layer = L.layerGroup();
    g.cameras.forEach(function (c) {
      L.circleMarker([c.lat, c.lon], { pane: "edits", radius: 6 * markerScale(), color: g.action === "removed" ? "#000000" : "#2ca02c",
        weight: 2, fill: g.action !== "removed", fillOpacity: 0.6, dashArray: g.action === "removed" ? "2 2" : null,
        className: "edited-camera" })
        .bindTooltip(esc(g.label) + "<br><code>" + esc(c.id) + "</code> (" + esc(c.cls) + ", " +
          fmt(c.count, c.count % 1 ? 2 : 0) + " camera(s))")
        .addTo(g.layer);
    });
  });

  // ---------------------------------------------------------------- the layer switches
  var overlays = {};
  overlays["Site: " + esc(D.site.name)] = site;
  overlays["Subway stations protesters come from (" + D.stations.length + ")"] = stations;
  overlays["Street names"] = names;
  overlays["Most used routes to the site"] = routes;
  D.camera_groups.forEach(function (g) {
    overlays["Cameras: " + esc(g.label)] = g.layer;
    g.layer.addTo(map);
  });
  D.edit_groups.forEach(function (g) {
    overlays[esc(g.label) + " (" + g.cameras.length + ")"] = g.layer;
    g.layer.addTo(map);
  });
  state.measure.layer.addTo(map);
  drawStreets();
  drawRoutes();
  drawCameras();

  var panel = document.getElementById("map-panel");
  if (comparison) {
    var switchBox = document.createElement("fieldset");
    switchBox.className = "scenario-switch";
    var views = [];
    D.scenarios.forEach(function (name, i) { views.push({ kind: "run", run: i }); });
    D.scenarios.forEach(function (name, i) { if (i > 0) views.push({ kind: "change", run: i }); });
    switchBox.innerHTML = "<legend>Streets and cameras of</legend>" + views.map(function (v, k) {
      var on = v.kind === state.view.kind && v.run === state.view.run;
      return '<label><input type="radio" name="map-view" value="' + k + '"' + (on ? " checked" : "") +
        "><span>" + esc(scenarioWords(v)) + "</span></label>";
    }).join("");
    switchBox.addEventListener("change", function (e) {
      state.view = views[Number(e.target.value)];
      drawStreets();
      drawRoutes();
      drawCameras();
      showKey();
    });
    panel.appendChild(switchBox);
  }
  var key = document.createElement("details");
  key.className = "map-key";
  key.open = true;
  key.innerHTML = '<summary>Key</summary><div class="legend"></div>';
  panel.appendChild(key);
  var layers = L.control.layers(bases, overlays, { collapsed: false, position: "topright" }).addTo(map);
  var control = layers.getContainer();
  panel.appendChild(control);  // beside (or below) the map: nothing covers the map or the key
  var heads = [[".leaflet-control-layers-base", "Colour the streets by"],
    [".leaflet-control-layers-overlays", "Show"]];
  heads.forEach(function (h) {
    var list = control.querySelector(h[0]);
    var head = document.createElement("div");
    head.className = "layers-head";
    head.textContent = h[1];
    list.parentNode.insertBefore(head, list);
  });
  L.control.scale({ metric: true, imperial: false, maxWidth: 160, position: "topright" }).addTo(map);

  // ---------------------------------------------------- the key: exactly what is shown
  function showKey() {
    var m = state.measure, view = state.view, rows = [];
    if (view.kind === "run") {
      rows.push("<b>" + esc(m.title) + "</b>" + (comparison ? "<span class='key-scenario'>" +
        esc(scenarioWords(view)) + "</span>" : "") + "<span>" + esc(m.unit_long) + "</span>");
      var lo = 0;
      m.breaks.forEach(function (b, i) {
        rows.push(line(D.ramp[i]) + fmt(lo, m.decimals) + " to " + fmt(b, m.decimals));
        lo = b;
      });
    } else {
      rows.push("<b>" + esc(m.title) + ": change</b><span class='key-scenario'>" +
        esc(D.scenarios[view.run]) + " minus " + esc(D.scenarios[0]) + "</span><span>" +
        esc(m.unit_long) + "</span>");
      var cb = m.change_breaks;
      for (var i = cb.length - 1; i >= 0; i--) {
        rows.push(line(D.change_down[i]) + fmt(-cb[i], m.decimals) + " to " +
          fmt(i ? -cb[i - 1] : 0, m.decimals) + (i === cb.length - 1 ? " (less)" : ""));
      }
      cb.forEach(function (b, i) {
        rows.push(line(D.change_up[i]) + fmt(i ? cb[i - 1] : 0, m.decimals, true) + " to " +
          fmt(b, m.decimals, true) + (i === cb.length - 1 ? " (more)" : ""));
      });
    }
    rows.push(line("#c4c4c4", "height:2px") + (view.kind === "change" ? "unchanged, or not walked" :
      "other streets (walk network)"));
    if (map.hasLayer(site)) {
      rows.push(swatch("background:" + D.site.colour + "47;border:2px solid " + D.site.colour +
        ";height:12px") + "assembly site area: " + esc(D.site.name));
    }
    if (map.hasLayer(stations)) {
      rows.push('<span class="key-sym"><i class="station-mark"></i></span>subway station protesters come from');
    }
    if (map.hasLayer(names)) rows.push('<span class="key-sym key-text">Name</span>street name (OpenStreetMap)');
    if (map.hasLayer(routes)) {
      rows.push(line("#e8590c", "height:0;border-top:2px dashed #e8590c;background:none") +
        "most used routes to the site (" + (D.routes[shownRun()] || []).length + ")");
    }
    D.classes.forEach(function (c) {
      var n = 0;
      D.camera_groups.forEach(function (g) { if (g.cls === c.cls && map.hasLayer(g.layer)) n += g.shown; });
      if (n) {
        rows.push(dot(c.colour + (view.kind === "change" ? "66" : "")) + "camera site: " + esc(c.label) +
          " (" + fmt(n, 0) + (view.kind === "change" ? " in " + esc(D.scenarios[view.run]) : "") + ")");
      }
    });
    D.edit_groups.forEach(function (g) {
      if (!map.hasLayer(g.layer)) return;
      rows.push(swatch("width:12px;height:12px;border-radius:50%;" + (g.action === "removed"
        ? "border:2px dashed #000000" : "border:2px solid #2ca02c;background:#2ca02c99")) +
        "camera site " + esc(g.action) + " by " + esc(D.scenarios[g.run]));
    });
    rows.push(swatch("background:#cfe3f1;height:10px") + "water");
    rows.push(line("#6b6b6b", "height:0;border-top:1.5px dashed #6b6b6b;background:none") + "borough boundary");
    key.querySelector(".legend").innerHTML = rows.map(function (r) { return "<div>" + r + "</div>"; }).join("");
  }
  map.on("baselayerchange", function (e) {
    D.measures.forEach(function (m) { if (m.layer === e.layer) state.measure = m; });
    drawStreets();
    showKey();
  });
  map.on("overlayadd overlayremove", function () { showKey(); declutter(); });
  showKey();

  // --------------- place names that would overlap give way, in order, or move along their street
  // A label's box: centre, half sizes and its axes on the screen (rotated by deg, clockwise).
  function box(cx, cy, w, h, deg) {
    var a = deg * Math.PI / 180;
    return { x: cx, y: cy, hw: w / 2 + 2, hh: h / 2 + 1, u: [Math.cos(a), Math.sin(a)], v: [-Math.sin(a), Math.cos(a)] };
  }
  function overlap(a, b) {  // separating axes of two rotated rectangles
    var d = [b.x - a.x, b.y - a.y];
    return [a.u, a.v, b.u, b.v].every(function (n) {
      function r(q) { return q.hw * Math.abs(q.u[0] * n[0] + q.u[1] * n[1]) + q.hh * Math.abs(q.v[0] * n[0] + q.v[1] * n[1]); }
      return Math.abs(d[0] * n[0] + d[1] * n[1]) < r(a) + r(b);
    });
  }
  function declutter() {
    var placed = [], dots = false;
    labelItems.slice().sort(function (a, b) { return a.priority - b.priority; }).forEach(function (item) {
      if (item.priority > 0 && !dots && map.hasLayer(stations)) {  // after the site's name: the stations' dots
        dots = true;
        D.stations.forEach(function (s) {
          var p = map.latLngToContainerPoint([s.lat, s.lon]);
          placed.push(box(p.x, p.y, 12, 12, 0));
        });
      }
      var el = item.marker.getElement();
      if (!el || !map.hasLayer(item.marker)) return;
      var span = el.firstElementChild;
      var free = item.options(span.offsetWidth, span.offsetHeight).filter(function (o) {
        return !placed.some(function (q) { return overlap(o.box, q); });
      })[0];
      el.classList.toggle("label-hidden", !free);
      if (free) {
        free.apply();
        placed.push(free.box);
      }
    });
  }
  map.on("zoomend resize", declutter);
  declutter();
  window.reportMap = map;
})();
