// 颐养 Yiyang — the visit record of the fill page (like ODK's form audit). While the form is in
// front of the assessor it counts the seconds spent on each section, keeps the first and last
// moment of the visit and asks the device where it is: the first page of a visit gives its start
// position, every page opened gives its end position (the last one wins). The assessor may refuse:
// that is recorded, not an error. The totals live in this device's storage and are sent to the
// server now and then and when the page is left; the server keeps the largest totals, so a resend
// changes nothing. A pause of more than VISIT_GAP_MS starts a new visit (another day, another trip).
// The reports go to the page's own route (cookie and CSRF header, like the autosave): a lapsed login
// is the login redirect, and the totals wait on the device until the assessor signs in again. For
// a record taken offline ("带到离线") they go through the outbox (offline.js), with its saves.
(function () {
  "use strict";
  var node = document.getElementById("visit-record");
  if (!node || !window.fetch) { return; }
  var url = node.getAttribute("data-url");
  var section = node.getAttribute("data-section") || "";
  var key = "yiyang.visit." + node.getAttribute("data-assessment");
  var statusNode = document.querySelector("[data-visit-status]");
  var M = {};
  try { M = JSON.parse((document.getElementById("visit-messages") || {}).textContent || "{}"); } catch (e) { M = {}; }
  var VISIT_GAP_MS = 2 * 3600 * 1000;
  var IDLE_MS = 5 * 60 * 1000;   // no touch or key for this long: the form is open, nobody works on it
  var TICK_MS = 5000;
  var SEND_MS = 30000;
  var lastInput = Date.now();
  var lastTick = Date.now();
  var sentSnapshot = "";
  var sequence = 0;
  var gone = false;  // logging out cleared this device: nothing more is kept or sent
  var O = window.YiyangOffline;
  var recordKey = "assessment:" + node.getAttribute("data-assessment");
  var kept = O ? O.record(recordKey).then(function (r) { return !!r && r.status !== "submitted"; }, function () { return false; })
               : Promise.resolve(false);
  var isKept = null;  // known once the store answered; a page being left cannot wait for it
  kept.then(function (value) { isKept = value; });
  window.addEventListener("yiyang:cleared", function () { gone = true; });

  function storage() { try { return window.localStorage; } catch (e) { return null; } }
  function load() {
    var s = storage();
    try { return s ? JSON.parse(s.getItem(key) || "null") : null; } catch (e) { return null; }
  }
  function keep(visit) {
    var s = storage();
    if (gone) { return; }
    try { if (s) { s.setItem(key, JSON.stringify(visit)); } } catch (e) { /* storage full: the server copy is tried */ }
  }
  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return "v-" + window.crypto.randomUUID(); }
    return "v-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  var visit = load();
  var now = Date.now();
  if (!visit || !visit.client_id || now - (visit.last || 0) > VISIT_GAP_MS) {
    visit = { client_id: newId(), started_at: new Date(now).toISOString(), ended_at: new Date(now).toISOString(),
              sections: {}, location: null, last: now };
  }
  keep(visit);

  function say() {
    if (!statusNode) { return; }
    var status = visit.location ? visit.location.status : "asking";
    statusNode.textContent = M[status] || "";
  }
  function place(found) {
    // The start of the visit is its first answer; every answer is its end until a later one.
    if (!visit.location) { visit.location = found; }
    visit.end_location = found;
    keep(visit); say(); send(false);
  }
  function locate() {
    if (!navigator.geolocation) { place({ status: "unsupported" }); return; }
    say();
    navigator.geolocation.getCurrentPosition(function (position) {
      place({ status: "granted", latitude: position.coords.latitude, longitude: position.coords.longitude,
              accuracy: position.coords.accuracy, at: new Date(position.timestamp || Date.now()).toISOString() });
    }, function (error) {
      place({ status: error && error.code === 1 ? "denied" : "unavailable" });
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
  }

  function tick() {
    var at = Date.now();
    var spent = Math.min(at - lastTick, TICK_MS * 3);  // a tablet asleep does not count
    lastTick = at;
    if (document.visibilityState !== "visible" || at - lastInput > IDLE_MS || !section) { return; }
    visit.sections[section] = Math.round(((visit.sections[section] || 0) + spent / 1000) * 10) / 10;
    visit.ended_at = new Date(at).toISOString();
    visit.last = at;
    keep(visit);
  }
  function body() {
    var out = { client_id: visit.client_id, started_at: visit.started_at, ended_at: visit.ended_at, sections: {} };
    Object.keys(visit.sections).forEach(function (k) { out.sections[k] = Math.round(visit.sections[k]); });
    if (visit.location) { out.location = visit.location; }
    if (visit.end_location) { out.end_location = visit.end_location; }
    return JSON.stringify(out);
  }
  function send(leaving) {
    if (gone) { return; }
    tick();
    var data = body();
    if (data === sentSnapshot) { return; }
    function route(offline) {
      if (gone) { return; }
      if (offline) {
        // Kept on the device: the outbox sends it (in order, with a fresh login check).
        O.queueVisit(recordKey, url, JSON.parse(data)).then(function () { sentSnapshot = data; });
      } else {
        post(data, leaving);
      }
    }
    if (isKept !== null) { route(isKept); } else { kept.then(route); }
  }
  function post(data, leaving) {
    var token = (document.querySelector("input[name=csrf_token]") || {}).value || "";
    sequence += 1;
    var options = { method: "POST", body: data, credentials: "same-origin", keepalive: !!leaving, redirect: "manual",
                    headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token,
                               "Idempotency-Key": visit.client_id + "." + Date.now().toString(36) + "." + sequence } };
    fetch(url, options).then(function (response) {
      if (response.ok) { sentSnapshot = data; }
    }, function () { /* offline: the totals wait in this device's storage and go with the next send */ });
  }

  ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
    window.addEventListener(name, function () { lastInput = Date.now(); }, { passive: true, capture: true });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { send(true); } else { lastTick = Date.now(); lastInput = Date.now(); }
  });
  window.addEventListener("pagehide", function () { send(true); });
  window.addEventListener("online", function () { send(false); });
  window.setInterval(tick, TICK_MS);
  window.setInterval(function () { send(false); }, SEND_MS);
  locate();
  send(false);
})();
