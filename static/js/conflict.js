// 颐养 Yiyang — the one conflict of every form: an assessment or an inspection checklist, saved
// online (form.js) or through the offline outbox (offline.js, offline-form.js). A save based on
// an older version is answered 409 with the server's answers (and an inspection's facts and
// notes); each value is merged three ways against what the device started from:
// - only the server changed it: the server's is taken;
// - only this device changed it (or both the same way): this device's is kept and sent again;
// - both changed it differently: it is asked, both values side by side, and the person chooses.
// Nothing is overwritten silently. The dialog is the page's #conflict-banner (_conflict.html),
// its words come from the page (#conflict-words), translated there.
(function () {
  "use strict";
  function same(a, b) { return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b); }
  function copy(x) { return JSON.parse(JSON.stringify(x === undefined ? null : x)); }

  function normFacts(facts) {
    // An inspection's facts as compared: vetoes as a sorted set, "no" facts left out.
    var out = {};
    Object.keys(facts || {}).forEach(function (k) {
      var v = facts[k];
      if (Array.isArray(v)) { v = v.slice().sort(); if (!v.length) { return; } }
      if (v === false || v === null || v === undefined || v === "") { return; }
      out[k] = v;
    });
    return out;
  }
  function normNotes(notes) {
    var out = {};
    Object.keys(notes || {}).forEach(function (k) { if (notes[k]) { out[k] = notes[k]; } });
    return out;
  }

  // The three-way merge of one kind of values (answers, notes or facts, each a map). `base` null:
  // what the device started from is unknown, so every value that differs is asked. `extra` is
  // copied onto each asked entry ({note: true}, {fact: true}). Returns {merged, ask}.
  function merge(base, theirs, mine, extra) {
    var merged = {}, ask = [], keys = {};
    theirs = theirs || {}; mine = mine || {};
    Object.keys(base || {}).concat(Object.keys(theirs), Object.keys(mine)).forEach(function (k) { keys[k] = 1; });
    Object.keys(keys).forEach(function (k) {
      var m = mine[k], t = theirs[k], b = base ? base[k] : undefined;
      var value;
      if (same(m, t)) { value = m; }
      else if (base && same(t, b)) { value = m; }
      else if (base && same(m, b)) { value = t; }
      else {
        var entry = { item: k, mine: m === undefined ? null : copy(m), theirs: t === undefined ? null : copy(t) };
        Object.keys(extra || {}).forEach(function (e) { entry[e] = extra[e]; });
        ask.push(entry);
        value = m;  // until the person chooses
      }
      if (value !== undefined && value !== null) { merged[k] = copy(value); }
    });
    return { merged: merged, ask: ask };
  }
  // An inspection's notes and facts, merged like the answers (notes: empty is none; facts:
  // normalised). Asked entries are appended to `ask`; returns {notes, facts}.
  function mergeExtras(base, theirs, mine, ask) {
    var n = merge(base ? normNotes(base.notes) : null, normNotes(theirs.notes), normNotes(mine.notes), { note: true });
    var f = merge(base ? normFacts(base.facts) : null, normFacts(theirs.facts), normFacts(mine.facts), { fact: true });
    n.ask.concat(f.ask).forEach(function (a) { ask.push(a); });
    return { notes: n.merged, facts: f.merged };
  }
  // Apply the person's choices to merged values: {answers, notes, facts} (notes and facts when asked).
  function applyChoices(values, chosen) {
    chosen.forEach(function (c) {
      var target = c.fact ? (values.facts = values.facts || {}) : c.note ? (values.notes = values.notes || {}) : values.answers;
      if (c.value === null || c.value === undefined || c.value === "") { delete target[c.item]; } else { target[c.item] = copy(c.value); }
    });
    return values;
  }

  // --- the dialog: one fieldset per asked value, mine and theirs with their labels ---------------
  var wordsNode = document.getElementById("conflict-words");
  var W = {};
  try { W = wordsNode ? JSON.parse(wordsNode.textContent) : {}; } catch (e) { W = {}; }
  function word(key) { return W[key] || key; }

  function factTitle(fact) {
    if (fact === "veto") { return word("fact_veto"); }
    if (fact === "first_application") { return word("fact_first_application"); }
    return fact;
  }
  function factText(fact, value, vetoLabel) {
    // A fact as the checklist asks it: the veto conditions ticked (by their labels), yes or no.
    if (value === null || value === undefined || value === false || (Array.isArray(value) && !value.length)) {
      return fact === "veto" ? word("fact_veto_none") : word("no");
    }
    if (fact === "veto" && Array.isArray(value)) {
      return value.map(function (code) { return vetoLabel(code) || code; }).join(word("list_separator"));
    }
    if (value === true) { return word("yes"); }
    return String(value);
  }
  // describe: {title(c) -> the item's name, answer(c, value) -> an answer as shown, veto(code) -> label}.
  // done(chosen): called with the asked entries, each with its chosen `value`.
  function ask(box, items, message, describe, done) {
    if (!box) { return; }
    var list = box.querySelector("[data-conflict-items]");
    var messageNode = box.querySelector("[data-conflict-message]");
    if (messageNode) { messageNode.textContent = message || ""; }
    list.textContent = "";
    items.forEach(function (c, n) {
      var fieldset = document.createElement("fieldset");
      fieldset.className = "conflict-item";
      fieldset.setAttribute("data-conflict-item", c.item);
      var legend = document.createElement("legend");
      legend.textContent = c.fact ? word("fact") + "：" + factTitle(c.item) :
        (c.note ? word("note") + "：" : "") + describe.title(c);
      fieldset.appendChild(legend);
      [["mine", word("choose_mine")], ["theirs", word("choose_theirs")]].forEach(function (side, i) {
        var label = document.createElement("label");
        label.className = "option";
        var input = document.createElement("input");
        input.type = "radio";
        input.name = "conflict-" + n;
        input.value = side[0];
        input.checked = i === 0;
        label.appendChild(input);
        var span = document.createElement("span");
        var value = c[side[0]];
        var shown = c.fact ? factText(c.item, value, describe.veto) :
          c.note ? (value || word("unanswered")) : describe.answer(c, value);
        span.textContent = side[1] + shown;
        label.appendChild(span);
        fieldset.appendChild(label);
      });
      list.appendChild(fieldset);
    });
    box.hidden = false;
    box.scrollIntoView({ block: "start" });
    box.focus({ preventScroll: true });
    box.querySelector("[data-conflict-apply]").onclick = function () {
      var chosen = items.map(function (c, n) {
        var picked = box.querySelector("input[name='conflict-" + n + "']:checked");
        var out = copy(c);
        out.value = picked && picked.value === "theirs" ? c.theirs : c.mine;
        return out;
      });
      box.hidden = true;
      done(chosen);
    };
  }

  window.YiyangConflict = {
    same: same, copy: copy, normFacts: normFacts, merge: merge, mergeExtras: mergeExtras,
    applyChoices: applyChoices, ask: ask, word: word
  };
})();
