// 颐养 Yiyang — a form whose record was taken offline ("带到离线"): its answers live on this device
// (IndexedDB, written on every change) and go to the server through the outbox (offline.js).
// Moving between sections opens the section's page (kept by the service worker), so the whole
// form works without a network; the review lists what is missing and previews the level when
// the engine is there; submitting queues the submission; a conflict asks item by item.
// One file (a little over 400 lines): the page's offline behaviour, the review and the conflict
// dialog share the record's state here; splitting them would pass that state between scripts.
(function () {
  "use strict";
  var O = window.YiyangOffline;
  var E = window.YiyangEngine;
  if (!O || !E) { return; }
  var lang = O.lang;
  function pick(t) { return t ? (t[lang] || t.zh || "") : ""; }

  // --- reading the definition offline --------------------------------------------------------------
  function itemsOf(def) {
    var out = {};
    def.sections.forEach(function (s) { s.items.forEach(function (i) { out[i.id] = { item: i, section: s }; }); });
    return out;
  }
  function answerText(item, value) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) { return O.say("unanswered"); }
    if (value === "na") { return O.say("not_applicable"); }
    function one(v) {
      var found = (item.options || []).filter(function (o) { return O.same(o.value, v); })[0];
      if (found) { return pick(found.label); }
      if (v === true) { return O.say("yes"); }
      if (v === false) { return O.say("no"); }
      return String(v);
    }
    if (Array.isArray(value)) { return value.map(one).join(lang === "en" ? ", " : "、"); }
    return one(value);
  }
  function engine(def) {
    // The client-side engine (static/js/engine.js), when the page has it and the download got
    // the definition compiled for it: relevance, problems and the scoring preview as the server.
    if (!window.YiyangEngine || !def.compiled) { return null; }
    if (!def.loaded) { def.loaded = window.YiyangEngine.load(def.compiled); }
    return def.loaded;
  }
  function values(answers) {
    var v = {};
    Object.keys(answers || {}).forEach(function (k) { if (answers[k] !== "na") { v[k] = answers[k]; } });
    return v;
  }
  function relevance(def, answers) {
    if (engine(def)) { return window.YiyangEngine.relevance(engine(def), answers); }
    var v = values(answers), shown = {};
    Object.keys(itemsOf(def)).forEach(function (id) {
      var rule = (def.logic[id] || {}).relevant;
      shown[id] = rule ? E.truthy(E.evaluate(rule.ast, v, {}, id)) : true;
    });
    return shown;
  }
  function problems(def, answers, only) {
    if (engine(def)) {
      var found = window.YiyangEngine.problems(engine(def), answers, lang, { partial: true });
      return only ? found.filter(function (p) { return only.indexOf(p.item) >= 0; }) : found;
    }
    var v = values(answers), out = [];
    var all = itemsOf(def);
    (only || Object.keys(all)).forEach(function (id) {
      var entry = all[id], value = answers[id];
      if (!entry || value === undefined || value === null || value === "na") { return; }
      var item = entry.item;
      if (typeof value === "number") {
        if (item.min !== null && value < item.min) { out.push({ item: id, message: O.say("too_small", { min: item.min }) }); }
        if (item.max !== null && value > item.max) { out.push({ item: id, message: O.say("too_large", { max: item.max }) }); }
      } else if (item.widget === "input" && ["integer", "count", "deduction", "decimal", "section_score"].indexOf(item.type) >= 0) {
        out.push({ item: id, message: O.say("not_a_number") });
      }
      var rule = (def.logic[id] || {}).constraint;
      if (rule && !E.truthy(E.evaluate(rule.ast, v, {}, id))) {
        out.push({ item: id, message: pick(item.constraint_message) || O.say("constraint") });
      }
    });
    return out;
  }
  function missing(def, answers) {
    var shown = relevance(def, answers), out = [];
    def.sections.forEach(function (s) {
      s.items.forEach(function (i) {
        var v = answers[i.id];
        if (i.required && shown[i.id] !== false && (v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length))) {
          out.push({ item: i, section: s });
        }
      });
    });
    return out;
  }

  function showErrors(list, target, def) {
    var all = itemsOf(def);
    target.textContent = "";
    if (!list.length) { target.hidden = true; return; }
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = O.say("fix_these");
    p.appendChild(strong);
    target.appendChild(p);
    var ul = document.createElement("ul");
    list.forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = (all[e.item] ? pick(all[e.item].item.title) : e.item || "") + "：" + e.message;
      ul.appendChild(li);
    });
    target.appendChild(ul);
    target.classList.add("problems");  // styled as the server's list only while it shows something
    target.hidden = false;
  }

  // --- the conflict: both values per item, the person chooses (conflict.js, as online) -----------
  function showConflict(rec, box) {
    if (!box) { return; }
    if (!rec.conflict) { box.hidden = true; return; }
    var all = itemsOf(rec.bundle.definition);
    var labels = rec.bundle.definition.veto_codes || {};
    window.YiyangConflict.ask(box, rec.conflict.items, rec.conflict.message, {
      title: function (c) { return c.item + " " + (all[c.item] ? pick(all[c.item].item.title) : ""); },
      answer: function (c, value) { return all[c.item] ? answerText(all[c.item].item, value) : JSON.stringify(value); },
      veto: function (code) { return labels[code] ? pick(labels[code]) : code; }
    }, function (chosen) {
      window.YiyangConflict.applyChoices(rec, chosen);
      rec.conflict = null;
      O.put(rec).then(function () { return O.queueSave(rec.key); }).then(function () { window.location.reload(); });
    });
  }

  // --- the form page of a record kept on the device -----------------------------------------------
  function manageForm(F, rec) {
    var form = F.form, logic = F.logic, b = rec.bundle;
    var box = document.getElementById("conflict-banner");
    var version = form.querySelector("input[name=version]");
    var pageVersion = Number(version ? version.value : 0);
    var unsent = O.pending(rec);
    if (navigator.onLine && pageVersion > Number(rec.version) && !unsent && !rec.conflict && logic.answers) {
      // The server's page is newer and nothing waits here: take the server's answers.
      rec.server = JSON.parse(JSON.stringify(logic.answers));
      rec.answers = JSON.parse(JSON.stringify(logic.answers));
      rec.version = pageVersion;
      if (b.kind === "inspection") {
        readExtras(form, b, rec);
        rec.serverNotes = JSON.parse(JSON.stringify(rec.notes));
        rec.serverFacts = JSON.parse(JSON.stringify(rec.facts));
      }
    }
    F.apply(rec.answers);
    if (b.kind === "inspection") { applyExtras(form, b, rec); }
    F.applySkipLogic();
    var section = form.getAttribute("data-section") || "";
    var pageItems = Object.keys(logic.items).filter(function (id) { return form.querySelector("[name='" + logic.items[id].field + "']"); });
    var errorsBox = document.getElementById("offline-problems");

    function read() {
      pageItems.forEach(function (id) {
        var v = F.typedValue(logic.items[id]);
        if (v === undefined) { return; }
        if (v === null || (Array.isArray(v) && !v.length)) { delete rec.answers[id]; } else { rec.answers[id] = v; }
      });
      if (b.kind === "inspection") { readExtras(form, b, rec); }
    }
    function changed() {
      read();
      return O.put(rec).then(function () { return O.queueSave(rec.key); }).then(function () {
        F.say(navigator.onLine ? "saved_device" : "saved_offline", { time: F.clock() }, "saved");
        F.showProblems(problems(b.definition, rec.answers, pageItems));
        showPreview(document.querySelector("#checklist [data-offline-level]"), rec);
      });
    }
    function go(where) {
      var pages = b.pages, index = -1;
      pages.forEach(function (u, i) { if (u.indexOf("section=" + encodeURIComponent(section)) >= 0 || u.indexOf("section=" + section) >= 0) { index = i; } });
      if (where === "save") { return; }
      var wrong = problems(b.definition, rec.answers, pageItems);
      if (wrong.length && (where === "next" || where === "review")) {
        F.showProblems(wrong);
        if (errorsBox) { showErrors(wrong, errorsBox, b.definition); errorsBox.focus(); }
        return;
      }
      var target = null;
      if (where === "next") { target = index + 1 < pages.length ? pages[index + 1] : b.review; }
      else if (where === "prev") { target = pages[Math.max(index - 1, 0)]; }
      else if (where === "review") { target = b.review; }
      else if (where.indexOf("section:") === 0) {
        var id = where.slice(8);
        target = pages.filter(function (u) { return u.indexOf("section=" + encodeURIComponent(id)) >= 0; })[0] || null;
      }
      if (target) { window.location.assign(target); }
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var submitter = event.submitter || document.activeElement;
      var name = submitter && submitter.name, value = submitter && submitter.value;
      changed().then(function () {
        if (name === "go") { go(value); }
        else if (name === "then" && value === "submit") { submitRecord(rec, errorsBox, F); }
      });
    });
    F.manage({
      changed: changed,
      photo: function (input) { photo(rec, input); }
    });
    F.say(navigator.onLine ? "managed" : "saved_offline", { time: F.clock() });
    showConflict(rec, box);
    window.addEventListener("yiyang:conflict", function (e) {
      if (e.detail.key === rec.key) { O.record(rec.key).then(function (now) { rec = now; showConflict(rec, box); }); }
    });
    window.addEventListener("yiyang:submitted", function (e) { if (e.detail.key === rec.key) { window.location.assign(b.detail); } });
    window.addEventListener("yiyang:photo", function (e) {
      if (e.detail.key !== rec.key) { return; }
      var img = document.querySelector("img[data-local-photo='" + e.detail.local + "']");
      if (img) { img.src = e.detail.photo.url; img.removeAttribute("data-local-photo"); img.setAttribute("data-photo-sent", ""); }
    });
    showQueuedPhotos(rec);
    showPreview(document.querySelector("#checklist [data-offline-level]"), rec);
  }
  function applyExtras(form, b, rec) {
    if (!rec.notes) { rec.notes = JSON.parse(JSON.stringify(b.notes || {})); }
    if (!rec.facts) { rec.facts = JSON.parse(JSON.stringify(b.facts || {})); }
    Object.keys(b.definition.notes || {}).forEach(function (id) {
      var area = form.querySelector("[name='" + b.definition.notes[id] + "']");
      if (area) { area.value = rec.notes[id] || ""; }
    });
    Array.prototype.forEach.call(form.querySelectorAll("input[name=veto]:not([disabled])"), function (c) {
      c.checked = (rec.facts.veto || []).indexOf(c.value) >= 0;
    });
    var first = form.querySelector("input[name=first_application]");
    if (first) { first.checked = !!rec.facts.first_application; }
  }
  function readExtras(form, b, rec) {
    var notes = {};
    Object.keys(b.definition.notes || {}).forEach(function (id) {
      var area = form.querySelector("[name='" + b.definition.notes[id] + "']");
      if (area && area.value.trim()) { notes[id] = area.value; }
    });
    rec.notes = notes;
    var facts = { veto: Array.prototype.filter.call(form.querySelectorAll("input[name=veto]:not([disabled])"), function (c) { return c.checked; }).map(function (c) { return c.value; }) };
    var first = form.querySelector("input[name=first_application]");
    if (first && first.checked) { facts.first_application = true; }
    rec.facts = facts;
  }

  // --- photos: kept as Blobs in the outbox until sent, shown at once ----------------------------------
  function thumb(item, blob, local) {
    var details = document.querySelector("[data-photos-for='" + item + "']");
    if (!details) { return; }
    var img = document.createElement("img");
    img.src = URL.createObjectURL(blob);
    img.alt = O.say("photo_waiting");
    img.setAttribute("data-local-photo", local);
    details.appendChild(img);
  }
  function photo(rec, input) {
    var file = input.files[0];
    var target = document.getElementById(input.getAttribute("form"));
    var item = target ? (target.querySelector("input[name=item]") || {}).value : "";
    if (!file || !item || !rec.bundle.photos) { return; }
    var local = "p" + Date.now() + Math.floor(Math.random() * 1000);
    var blob = file.slice(0, file.size, file.type);
    O.enqueuePhoto(rec.key, rec.bundle.photos + "?item=" + encodeURIComponent(item), blob, local).then(function () {
      thumb(item, blob, local);
      input.value = "";
      window.YiyangForm.say("photo_queued", { time: window.YiyangForm.clock() }, "saved");
    });
  }
  function showQueuedPhotos(rec) {
    O.entries().then(function (list) {
      list.forEach(function (e) {
        if (e.key === rec.key && e.type === "photo") {
          var m = /[?&]item=([^&]+)/.exec(e.url);
          thumb(m ? decodeURIComponent(m[1]) : "", e.blob, e.local);
        }
      });
    });
  }

  // --- submitting: queued; the server scores it on arrival -----------------------------------------------
  function submitRecord(rec, errorsBox, F) {
    var gaps = missing(rec.bundle.definition, rec.answers);
    var wrong = problems(rec.bundle.definition, rec.answers);
    if (gaps.length || wrong.length) {
      var list = gaps.map(function (g) { return { item: g.item.id, message: O.say("required") }; }).concat(wrong);
      if (errorsBox) { showErrors(list, errorsBox, rec.bundle.definition); errorsBox.focus(); }
      return Promise.resolve(false);
    }
    return O.queueSubmit(rec.key).then(function () {
      var note = navigator.onLine ? "submit_sending" : "submit_queued";
      if (F) { F.say(note, null, "saved"); }
      var status = document.getElementById("offline-submit-status");
      if (status) { status.textContent = O.say(note); status.hidden = false; }
      return true;
    });
  }

  // --- the previewed level, in the page's language -------------------------------------------------------
  function factsOf(rec) {
    // An inspection is scored with its facts: the ones the server knew at download (auto_facts)
    // and the inspector's, merged like rating.operations.facilities.merge_facts (vetoes: the
    // union), so a veto or a first application gives the level instead of "needs the server".
    if (rec.kind !== "inspection") { return undefined; }
    var auto = rec.bundle.auto_facts || {}, entered = rec.facts || {}, merged = {};
    Object.keys(auto).forEach(function (k) { merged[k] = auto[k]; });
    Object.keys(entered).forEach(function (k) { merged[k] = entered[k]; });
    var veto = [];
    (auto.veto || []).concat(entered.veto || []).forEach(function (v) { if (veto.indexOf(v) < 0) { veto.push(v); } });
    merged.veto = veto;
    return merged;
  }
  function showPreview(level, rec) {
    if (!level) { return; }
    var def = rec.bundle.definition;
    var preview = engine(def) ? window.YiyangEngine.preview(engine(def), rec.answers, factsOf(rec)) : null;
    var label = preview && preview.level_label ? pick(preview.level_label) : "";
    if (label) {
      level.textContent = O.say("preview", { total: preview.total === null ? "—" : preview.total, level: label });
      level.className = "preview-level";
    } else {
      level.textContent = navigator.onLine ? O.say("preview_on_submit") : O.say("preview_needs_network");
      level.className = "flash flash-info";
    }
    level.hidden = false;
  }

  // --- the review page, drawn from the device's answers ------------------------------------------------
  function manageReview(node, rec) {
    var b = rec.bundle, def = b.definition, answers = rec.answers;
    var view = document.getElementById("offline-review");
    var shown = relevance(def, answers);
    var gaps = missing(def, answers);
    var wrong = problems(def, answers);
    document.querySelectorAll("[data-server-review]").forEach(function (n) { n.hidden = true; });
    var problemsBox = view.querySelector("[data-offline-missing]");
    var list = gaps.map(function (g) { return { item: g.item.id, message: O.say("required"), section: g.section }; }).concat(wrong);
    problemsBox.textContent = "";
    if (list.length) {
      var head = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = O.say("missing", { n: list.length });
      head.appendChild(strong);
      problemsBox.appendChild(head);
      var ul = document.createElement("ul");
      var all = itemsOf(def);
      list.forEach(function (e) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        var section = all[e.item] ? all[e.item].section : null;
        var page = section ? b.pages.filter(function (u) { return u.indexOf("section=" + encodeURIComponent(section.id)) >= 0; })[0] : null;
        a.href = (page || b.pages[0]) + "#item-" + (def.items[e.item] ? def.items[e.item].field : "");
        a.textContent = e.item + " " + (all[e.item] ? pick(all[e.item].item.title) : "");
        li.appendChild(a);
        li.appendChild(document.createTextNode("：" + e.message));
        ul.appendChild(li);
      });
      problemsBox.appendChild(ul);
    }
    problemsBox.hidden = !list.length;
    problemsBox.classList.toggle("problems", list.length > 0);
    var sections = view.querySelector("[data-offline-sections]");
    sections.textContent = "";
    def.sections.forEach(function (s, i) {
      var card = document.createElement("section");
      card.className = "card";
      var h = document.createElement("h2");
      h.textContent = pick(s.title) + " ";
      var edit = document.createElement("a");
      edit.className = "small";
      edit.href = b.pages[i];
      edit.textContent = O.say("edit");
      h.appendChild(edit);
      card.appendChild(h);
      var table = document.createElement("table");
      table.className = "table compact";
      s.items.forEach(function (item) {
        if (shown[item.id] === false) { return; }
        var tr = document.createElement("tr");
        var th = document.createElement("th");
        th.textContent = item.id + " " + pick(item.title);
        var td = document.createElement("td");
        td.textContent = answerText(item, answers[item.id]);
        tr.appendChild(th);
        tr.appendChild(td);
        table.appendChild(tr);
      });
      card.appendChild(table);
      sections.appendChild(card);
    });
    showPreview(view.querySelector("[data-offline-level]"), rec);
    view.querySelector("[data-offline-sign]").hidden = navigator.onLine;
    view.hidden = false;
    var button = view.querySelector("[data-offline-submit]");
    var errorsBox = view.querySelector("[data-offline-missing]");
    button.onclick = function () { submitRecord(rec, errorsBox, null); };
    if (rec.error) {
      var err = view.querySelector("[data-offline-error]");
      err.textContent = rec.error + (rec.errors || []).map(function (e) { return "；" + (e.item || "") + " " + e.message; }).join("");
      err.hidden = false;
    }
    window.addEventListener("yiyang:submitted", function (e) { if (e.detail.key === rec.key) { window.location.assign(b.detail); } });
    window.addEventListener("yiyang:refused", function (e) { if (e.detail.key === rec.key) { window.location.reload(); } });
    O.entries().then(function (entries) {
      if (entries.some(function (e) { return e.key === rec.key && e.type === "submit"; })) {
        var status = document.getElementById("offline-submit-status");
        status.textContent = O.say(navigator.onLine ? "submit_sending" : "submit_queued");
        status.hidden = false;
      }
    });
  }

  // --- start -------------------------------------------------------------------------------------
  var F = window.YiyangForm;
  var reviewNode = document.querySelector("[data-offline-review]");
  var keyOf = function (dataKey) { var m = /yiyang\.(assessment|inspection)\.(\d+)/.exec(dataKey || ""); return m ? m[1] + ":" + m[2] : null; };
  var recordKey = F ? keyOf(F.form.getAttribute("data-key")) : reviewNode ? reviewNode.getAttribute("data-offline-review") : null;
  if (!recordKey) { return; }
  O.record(recordKey).then(function (rec) {
    if (!rec || rec.status === "submitted") { return; }
    rec.bundle.definition.items = rec.bundle.definition.items || {};
    if (F) { manageForm(F, rec); } else { manageReview(reviewNode, rec); }
  }).catch(function () { return null; });
})();
