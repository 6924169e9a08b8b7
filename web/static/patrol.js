/* citycase: the supervisor's duty page. While on duty the phone's position is taken every N seconds,
   queued in localStorage (so nothing is lost without a connection or when the page reloads) and sent
   in batches to /api/v1/patrol/positions. The server stores each point once per instant, so a batch
   that is sent twice or arrives after a later one does no harm. */
(function () {
  "use strict";
  var box = document.getElementById("duty");
  if (!box) return;
  var KEY = "citycase.patrol.queue." + box.getAttribute("data-user");
  var interval = Math.max(5, parseInt(box.getAttribute("data-interval"), 10) || 15) * 1000;
  var endpoint = box.getAttribute("data-endpoint");
  var statusEl = document.getElementById("patrol-status");
  var BATCH = 200;
  var latest = null, sending = false, lastSent = null, offline = false;

  function queue() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(q) {
    try { localStorage.setItem(KEY, JSON.stringify(q)); } catch (e) { /* full: keep the newest in memory */ }
  }
  function show() {
    var parts = [box.getAttribute("data-waiting") + " " + queue().length];
    if (lastSent) parts.push(box.getAttribute("data-sent") + " " + lastSent.toLocaleTimeString());
    if (offline) parts.push(box.getAttribute("data-offline"));
    statusEl.textContent = parts.join(" · ");
  }
  function flush() {
    var q = queue();
    if (sending || !q.length) { show(); return Promise.resolve(); }
    sending = true;
    var batch = q.slice(0, BATCH);
    return fetch(endpoint, { method: "POST", credentials: "same-origin",
                             headers: { "Content-Type": "application/json" },
                             body: JSON.stringify({ points: batch }) })
      .then(function (r) {
        if (r.ok || r.status === 400) {
          // 400: a point the server will never take (e.g. too old); dropping it unblocks the rest.
          var sent = {};
          batch.forEach(function (p) { sent[p.at] = true; });
          save(queue().filter(function (p) { return !sent[p.at]; }));
          offline = false;
          lastSent = new Date();
        } else { offline = true; }
      })
      .catch(function () { offline = true; })
      .then(function () { sending = false; show(); if (!offline && queue().length) return flush(); });
  }
  function record() {
    if (!latest) return;
    var q = queue();
    q.push({ at: new Date().toISOString(), lon: latest.longitude, lat: latest.latitude,
             accuracy: Math.round(latest.accuracy || 0) });
    save(q);
    show();
  }
  // Points kept from an earlier visit go first, on or off duty (they were recorded on duty).
  flush();
  window.addEventListener("online", flush);
  if (box.getAttribute("data-on-duty") !== "yes") return;
  if (!navigator.geolocation) { statusEl.textContent = box.getAttribute("data-no-gps"); return; }
  navigator.geolocation.watchPosition(function (pos) { latest = pos.coords; },
    function () { statusEl.textContent = box.getAttribute("data-no-gps"); },
    { enableHighAccuracy: true, maximumAge: interval, timeout: 60000 });
  setInterval(record, interval);
  setInterval(flush, interval * 4);
  // Ending duty: send what is queued first (the end is recorded by the form either way).
  var form = document.getElementById("duty-form");
  form.addEventListener("submit", function (e) {
    if (form.getAttribute("data-flushed")) return;
    e.preventDefault();
    record();
    var done = function () { form.setAttribute("data-flushed", "1"); form.requestSubmit(e.submitter); };
    Promise.race([flush(), new Promise(function (r) { setTimeout(r, 3000); })]).then(done, done);
  });
})();
