// 颐养 Yiyang — the one autosave client of both forms (assessment pages, inspection checklists).
// Saves are queued (one at a time, each with the version its previous save returned); leaving or
// reloading the page flushes what is not sent yet (fetch keepalive, else sendBeacon); every change
// waits in this device's storage until the server has it. A conflict (a save based on an older
// version) is merged three ways and asked item by item (conflict.js, the same as the offline
// outbox): both values side by side, the person chooses. The words come from the page
// (#form-messages, #conflict-words), translated there. One file (a little over 400 lines): the
// save queue, the local copy and the conflict share the page's state here.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form) { return; }

  function json(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }
  var M = json("form-messages") || {};
  var logic = json("client-logic") || { logic: {}, items: {}, answers: {} };
  var url = form.getAttribute("data-autosave");
  var section = form.getAttribute("data-section") || "";
  var prefix = form.getAttribute("data-key") || ("yiyang.form." + url);
  var storeKey = prefix + (section ? "." + section : "");
  var focusKey = prefix + ".focus";
  var versionInput = form.querySelector("input[name=version]");
  var statusNode = document.querySelector("[data-autosave-status]");
  var banner = document.getElementById("conflict-banner");
  var DELAY_MS = 800;
  var SKIP = { csrf_token: 1, version: 1, section: 1, go: 1, then: 1 };
  var timer = null;
  var inFlight = null;     // the save on its way (a promise), at most one
  var queued = false;      // a change came while a save was on its way
  var lastSent = null;     // the snapshot last handed to the server
  var inConflict = false;
  var serverVersion = null;
  var managed = null;      // set when this record is kept on the device: offline-form.js saves it

  function say(key, values, kind) {
    var text = M[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    if (!statusNode) { return; }
    statusNode.textContent = text;
    statusNode.className = statusNode.className.replace(/\s*is-\w+/g, "") + (kind ? " is-" + kind : "");
  }
  function clock() {
    var d = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  // --- what the form holds, and its copy on this device ----------------------------------------
  function snapshot() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (!SKIP[name] && typeof value === "string") { out.push([name, value]); }
    });
    return JSON.stringify(out);
  }
  function storage() { try { return window.localStorage; } catch (e) { return null; } }
  function keepLocal(version, fields) {
    var s = storage();
    try { if (s) { s.setItem(storeKey, JSON.stringify({ version: String(version), fields: fields, at: Date.now(), base: base })); } }
    catch (e) { /* storage full or disabled: the server copy is still tried */ }
  }
  function readLocal() {
    var s = storage();
    try { return s ? JSON.parse(s.getItem(storeKey) || "null") : null; } catch (e) { return null; }
  }
  function dropLocal(fields) {
    var s = storage();
    var local = readLocal();
    if (s && local && (fields === undefined || local.fields === fields)) { s.removeItem(storeKey); }
  }
  function restore(fields) {
    var byName = {};
    JSON.parse(fields).forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.disabled || el.type === "submit" || el.type === "button" || el.type === "file") { return; }
      var values = byName[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") { el.checked = values.indexOf(el.value) >= 0; }
      else { el.value = values.length ? values[0] : ""; }
    });
  }

  // --- messages beside the items -------------------------------------------------------------
  function showProblems(problems) {
    var byItem = {};
    (problems || []).forEach(function (p) { (byItem[p.item] = byItem[p.item] || []).push(p.message); });
    Array.prototype.forEach.call(form.querySelectorAll("[data-errors-for]"), function (box) {
      var messages = byItem[box.getAttribute("data-errors-for")] || [];
      box.textContent = "";
      messages.forEach(function (m) {
        var p = document.createElement("p");
        p.className = "error";
        p.textContent = m;
        box.appendChild(p);
      });
      var fieldset = box.closest("fieldset");
      if (!fieldset) { return; }
      fieldset.classList.toggle("has-error", messages.length > 0);
      Array.prototype.forEach.call(fieldset.querySelectorAll("[aria-describedby~='" + box.id + "']"), function (c) {
        if (messages.length) { c.setAttribute("aria-invalid", "true"); } else { c.removeAttribute("aria-invalid"); }
      });
    });
  }

  // --- skip logic: the engine's expressions as JSON, evaluated by engine.js like Python --------
  var E = window.YiyangEngine;
  function typedValue(meta) {
    var controls = form.querySelectorAll("[name='" + meta.field + "']");
    if (!controls.length) { return undefined; }
    var na = form.querySelector("[name='" + meta.field + "__na']");
    if (na && na.checked) { return "na"; }
    var opt = function (key) { return Object.prototype.hasOwnProperty.call(meta.options, key) ? meta.options[key] : key; };
    if (meta.read === "multi") {
      var list = [];
      Array.prototype.forEach.call(controls, function (c) { if (c.checked) { list.push(opt(c.value)); } });
      return list;
    }
    if (meta.read === "choice") {
      var chosen = null;
      Array.prototype.forEach.call(controls, function (c) { if (c.checked) { chosen = c.value; } });
      if (chosen === null) { return null; }
      if (meta.type === "boolean" && !Object.keys(meta.options).length) { return chosen === "true"; }
      return opt(chosen);
    }
    var text = controls[0].value.trim();
    if (text === "") { return null; }
    if (meta.read === "number") { var n = Number(text); return isNaN(n) ? text : n; }
    if (meta.read === "files") { return text.split(/\n/).map(function (s) { return s.trim(); }).filter(Boolean); }
    return text;
  }
  function currentValues() {
    var values = {};
    Object.keys(logic.answers || {}).forEach(function (k) { values[k] = logic.answers[k]; });
    Object.keys(logic.items || {}).forEach(function (itemId) {
      var v = typedValue(logic.items[itemId]);
      if (v === undefined) { return; }
      if (v === null) { delete values[itemId]; } else { values[itemId] = v; }
    });
    return values;
  }
  function setShown(itemId, shown) {
    var meta = logic.items[itemId];
    var box = meta && document.getElementById("item-" + meta.field);
    if (box) { box.hidden = !shown; }
  }
  function applySkipLogic() {
    var values = currentValues();
    Object.keys(values).forEach(function (k) { if (values[k] === "na") { delete values[k]; } });
    Object.keys(logic.logic || {}).forEach(function (itemId) {
      var rule = logic.logic[itemId].relevant;
      if (rule) { setShown(itemId, E.truthy(E.evaluate(rule.ast, values, {}, itemId))); }
    });
  }
  function applyRelevant(relevant) {
    if (!relevant || !logic.logic || !Object.keys(logic.logic).length) { return; }
    var shown = {};
    relevant.forEach(function (id) { shown[id] = true; });
    Object.keys(logic.logic).forEach(function (itemId) { if (logic.logic[itemId].relevant) { setShown(itemId, !!shown[itemId]); } });
  }

  // --- putting answers into the page's controls (also offline-form.js's) -------------------------
  function same(a, b) { return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b); }
  function optionKey(meta, v) {
    var found = Object.keys(meta.options || {}).filter(function (k) { return same(meta.options[k], v); })[0];
    if (found !== undefined) { return found; }
    return v === true ? "true" : v === false ? "false" : String(v);
  }
  function apply(answers) {
    Object.keys(logic.items || {}).forEach(function (id) {
      var meta = logic.items[id];
      var controls = form.querySelectorAll("[name='" + meta.field + "']");
      if (!controls.length) { return; }
      var value = answers[id];
      var na = form.querySelector("[name='" + meta.field + "__na']");
      if (na) { na.checked = value === "na"; }
      var wanted = value === undefined || value === null ? [] : Array.isArray(value) ? value.map(function (v) { return optionKey(meta, v); }) : [optionKey(meta, value)];
      Array.prototype.forEach.call(controls, function (c) {
        if (c.type === "radio" || c.type === "checkbox") { c.checked = wanted.indexOf(c.value) >= 0; }
        else if (meta.read === "files") { c.value = Array.isArray(value) ? value.join("\n") : (value || ""); }
        else { c.value = value === undefined || value === null || value === "na" ? "" : String(value); }
      });
    });
  }

  // --- what the person has (answers of this page; an inspection's notes and facts) ---------------
  var C = window.YiyangConflict;
  function pageItems() {
    return Object.keys(logic.items || {}).filter(function (id) { return form.querySelector("[name='" + logic.items[id].field + "']"); });
  }
  function noteField(id) { return "n_" + logic.items[id].field.slice(2); }  // forms.checklist.note_name
  function vetoes() { return form.querySelectorAll("input[name=veto]:not([disabled])"); }
  function hasExtras() { return vetoes().length > 0 || !!form.querySelector("input[name=first_application], textarea[name^='n_']"); }
  function state() {
    var answers = {}, values = currentValues();
    pageItems().forEach(function (id) { if (values[id] !== undefined && values[id] !== null) { answers[id] = values[id]; } });
    if (!hasExtras()) { return { answers: answers }; }
    var notes = {}, facts = {};
    pageItems().forEach(function (id) {
      var area = form.querySelector("[name='" + noteField(id) + "']");
      if (area && area.value.trim()) { notes[id] = area.value; }
    });
    var veto = Array.prototype.filter.call(vetoes(), function (c) { return c.checked; }).map(function (c) { return c.value; });
    if (veto.length) { facts.veto = veto; }
    var first = form.querySelector("input[name=first_application]");
    if (first && first.checked) { facts.first_application = true; }
    return { answers: answers, notes: notes, facts: facts };
  }
  function setState(values) {
    apply(values.answers);
    if (!values.facts && !values.notes) { return; }
    pageItems().forEach(function (id) {
      var area = form.querySelector("[name='" + noteField(id) + "']");
      if (area) { area.value = (values.notes || {})[id] || ""; }
    });
    Array.prototype.forEach.call(vetoes(), function (c) { c.checked = ((values.facts || {}).veto || []).indexOf(c.value) >= 0; });
    var first = form.querySelector("input[name=first_application]");
    if (first) { first.checked = !!(values.facts || {}).first_application; }
  }
  var base = null;  // the server's values this page's changes started from (null: unknown)

  // --- the conflict: merged three ways, the values both sides changed are asked ------------------
  function labelOf(control) {
    var label = control && control.closest("label");
    return label ? label.textContent.replace(/\s+/g, " ").trim() : "";
  }
  function answerText(itemId, value) {
    var meta = logic.items[itemId];
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) { return C.word("unanswered"); }
    if (value === "na") { return C.word("not_applicable"); }
    function one(v) {
      var control = meta && meta.read !== "number" && meta.read !== "text" ? form.querySelector("[name='" + meta.field + "'][value='" + optionKey(meta, v) + "']") : null;
      if (control && (control.type === "radio" || control.type === "checkbox") && labelOf(control)) { return labelOf(control); }
      if (v === true) { return C.word("yes"); }
      if (v === false) { return C.word("no"); }
      return String(v);
    }
    return Array.isArray(value) ? value.map(one).join(C.word("list_separator")) : one(value);
  }
  function showConflict(body) {
    inConflict = true;
    serverVersion = body.version;
    var theirs = { answers: {}, notes: body.notes, facts: body.facts };
    var items = pageItems();
    items.forEach(function (id) { if ((body.answers || {})[id] !== undefined) { theirs.answers[id] = body.answers[id]; } });
    Object.keys(body.answers || {}).forEach(function (id) { logic.answers[id] = body.answers[id]; });  // the other pages' items
    var mine = state();
    var merged = C.merge(base ? base.answers : null, theirs.answers, mine.answers);
    var ask = merged.ask;
    var values = { answers: merged.merged };
    if (mine.facts && body.facts) {
      var extras = C.mergeExtras(base && base.facts ? base : null, theirs, mine, ask);
      values.notes = extras.notes;
      values.facts = extras.facts;
    }
    var resolved = function (chosen) {
      setState(C.applyChoices(values, chosen || []));
      applySkipLogic();
      base = { answers: theirs.answers, notes: C.copy(body.notes || {}), facts: C.copy(body.facts || {}) };
      versionInput.value = serverVersion;
      inConflict = false;
      lastSent = null;
      save();
    };
    if (!ask.length || !banner) { resolved([]); return; }  // only the server's changes: taken, and ours sent again
    setState(values);
    applySkipLogic();
    say("conflict_status", null, "error");
    C.ask(banner, ask, body.message, {
      title: function (c) {
        var meta = logic.items[c.item];
        var legend = meta ? document.querySelector("#item-" + meta.field + " legend") : null;
        return legend ? legend.textContent.replace(/\s+/g, " ").trim() : c.item;
      },
      answer: function (c, value) { return answerText(c.item, value); },
      veto: function (code) { return labelOf(form.querySelector("input[name=veto][value='" + code + "']")); }
    }, resolved);
  }

  // --- saving: one at a time, each with the version its previous save returned -----------------
  function body(fields, version) {
    var data = new FormData(form);
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (el) { if (el.name) { data.delete(el.name); } });
    data.delete("go");
    data.delete("then");
    data.set("version", String(version));
    if (section) { data.set("section", section); }
    return data;
  }
  function handle(response) {
    if (response.type === "opaqueredirect" || response.status === 401) {
      return { login: true };
    }
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") < 0) {
      return { login: response.status === 400 || response.status === 403, status: response.status, data: {} };
    }
    return response.json().then(function (data) { return { status: response.status, data: data }; });
  }
  function save() {
    clearTimeout(timer);
    if (managed) { return managed.changed(); }
    if (inConflict) { return Promise.resolve(); }
    if (inFlight) { queued = true; return inFlight; }
    var fields = snapshot();
    var version = versionInput.value;
    var token = (form.querySelector("input[name=csrf_token]") || {}).value || "";
    keepLocal(version, fields);
    lastSent = fields;
    var sent = state();
    say("saving");
    var options = { method: "POST", body: body(fields, version), credentials: "same-origin", redirect: "manual",
                    headers: { "Accept": "application/json", "X-CSRFToken": token } };
    // keepalive: a save on its way when the page is left still reaches the server.
    inFlight = fetch(url, Object.assign({ keepalive: true }, options)).catch(function () {
      return fetch(url, options);  // over the keepalive size limit (or a network error): once more, plainly
    }).then(handle).then(function (res) {
      if (res.login) {
        lastSent = null;
        say("login", null, "error");
      } else if (res.status === 200) {
        if (Number(res.data.version) > Number(versionInput.value)) { versionInput.value = res.data.version; }
        dropLocal(fields);
        base = sent;
        var n = (res.data.problems || []).length;
        say(n ? "saved_with_problems" : "saved", { time: clock(), n: n }, "saved");
        showProblems(res.data.problems);
        applyRelevant(res.data.relevant);
      } else if (res.status === 409 && res.data.error === "conflict") {
        showConflict(res.data);
      } else {
        lastSent = null;
        if (statusNode) { statusNode.textContent = (res.data && res.data.message) || M.failed; statusNode.className += " is-error"; }
      }
    }, function () {
      lastSent = null;
      say("offline", null, "error");
    }).then(function () {
      inFlight = null;
      if (queued) { queued = false; schedule(0); }
    });
    return inFlight;
  }
  function schedule(delay) {
    clearTimeout(timer);
    if (managed) { managed.changed(); return; }
    if (inConflict) { return; }
    keepLocal(versionInput.value, snapshot());
    say("pending");
    timer = setTimeout(save, delay === undefined ? DELAY_MS : delay);
  }
  function unsent() { return !inConflict && snapshot() !== lastSent && lastSent !== undefined; }

  // Leaving or reloading: what is not sent yet goes now, in a request that outlives the page.
  function flush() {
    clearTimeout(timer);
    if (managed) { return; }  // every change is on the device already, and in the outbox
    if (!unsent()) { return; }
    var fields = snapshot();
    // A save on its way will have moved the version on by one when this one arrives.
    var version = Number(versionInput.value) + (inFlight ? 1 : 0);
    keepLocal(version, fields);
    lastSent = fields;
    var data = body(fields, version);
    var token = (form.querySelector("input[name=csrf_token]") || {}).value || "";
    try {
      fetch(url, { method: "POST", body: data, credentials: "same-origin", keepalive: true, redirect: "manual",
                   headers: { "Accept": "application/json", "X-CSRFToken": token } }).catch(function () {});
    } catch (e) {
      if (navigator.sendBeacon) { navigator.sendBeacon(url, data); }
    }
  }

  function onChange(event) {
    if (event.target && event.target.type === "file") { return; }
    applySkipLogic();
    schedule();
    var box = event.target && event.target.closest ? event.target.closest("[data-item]") : null;
    var s = storage();
    try { if (box && s) { s.setItem(focusKey, JSON.stringify({ section: section, item: box.id })); } } catch (e) { /* ignore */ }
  }
  form.addEventListener("input", onChange);
  form.addEventListener("change", onChange);
  form.addEventListener("submit", function (event) {
    clearTimeout(timer);
    if (managed) { return; }  // offline-form.js moves between pages and queues the submission
    if (inFlight) {
      // Wait for the save on its way, so the page is sent with the version it returned.
      event.preventDefault();
      var submitter = event.submitter || null;
      inFlight.then(function () {
        form.dataset.submitted = "";
        if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
      });
      return;
    }
    keepLocal(versionInput.value, snapshot());  // kept until the next page shows it saved
    lastSent = undefined;  // the page's own post carries the answers now
  });
  document.addEventListener("visibilitychange", function () {
    if (managed) { return; }
    if (document.visibilityState === "hidden") {
      if (unsent()) { if (inFlight) { queued = true; } else { save(); } }
    } else if (readLocal() && !inConflict && !inFlight) {
      save();  // back from signing in again, or from another app
    }
  });
  window.addEventListener("pagehide", flush);
  window.addEventListener("online", function () { if (!managed && readLocal()) { save(); } });

  // Photos: choosing a picture saves the checklist first, then uploads it.
  Array.prototype.forEach.call(document.querySelectorAll("input[data-autoupload]"), function (input) {
    input.addEventListener("change", function () {
      var target = input.form;
      if (!target || !input.files.length) { return; }
      if (managed) { managed.photo(input); return; }
      save().then(function () { target.submit(); });
    });
  });

  // --- sticky bars never hide the focused control: scroll padding as tall as the bars ---------
  function measureBars() {
    var top = 0, bottom = 0;
    Array.prototype.forEach.call(document.querySelectorAll(".fill-head, .form-nav, .sticky-actions"), function (bar) {
      var style = window.getComputedStyle(bar);
      if (style.position !== "sticky" && style.position !== "fixed") { return; }
      var height = bar.getBoundingClientRect().height;
      if (style.top !== "auto") { top = Math.max(top, height); } else { bottom = Math.max(bottom, height); }
    });
    document.documentElement.style.setProperty("--sticky-top", (top + 16) + "px");
    document.documentElement.style.setProperty("--sticky-bottom", (bottom + 16) + "px");
  }
  measureBars();
  window.addEventListener("resize", measureBars);

  // --- on load: put back what the server has not confirmed, and send it -------------------------
  var shown = snapshot();
  lastSent = shown;
  base = state();
  var local = readLocal();
  if (local && typeof local.fields === "string") {
    if (local.fields === shown) {
      dropLocal();
    } else {
      // Sent with the version it was based on: the server takes it if nobody else saved since,
      // answers 200 if it already has these answers (our own save landed), else shows the conflict.
      restore(local.fields);
      base = local.base || null;  // an older copy without it: every value that differs is asked
      applySkipLogic();
      var pageVersion = versionInput.value;
      versionInput.value = local.version;
      say("local_restored");
      lastSent = null;
      save().then(function () {
        if (Number(pageVersion) > Number(versionInput.value) && !inConflict) { versionInput.value = pageVersion; }
      });
    }
  }
  applySkipLogic();
  var s = storage();
  var lastFocus = null;
  try { lastFocus = s ? JSON.parse(s.getItem(focusKey) || "null") : null; } catch (e) { lastFocus = null; }
  if (section && lastFocus && lastFocus.section === section && banner && banner.hidden) {
    var target = document.getElementById(lastFocus.item);
    if (target && !location.hash) { target.scrollIntoView({ block: "center" }); }
  }

  // offline-form.js takes over saving when this record was taken offline ("带到离线").
  window.YiyangForm = {
    form: form, logic: logic, messages: M, typedValue: typedValue, currentValues: currentValues, apply: apply,
    applySkipLogic: applySkipLogic, showProblems: showProblems, say: say, clock: clock,
    manage: function (controller) {
      managed = controller;
      clearTimeout(timer);
      dropLocal();
      lastSent = snapshot();
    }
  };
})();
