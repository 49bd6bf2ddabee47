// 颐养 Yiyang — the assessment form: autosave, skip logic applied live, resume, conflicts.
// Nothing is lost: every change is kept in this device's storage until the server has it.
(function () {
  "use strict";
  var form = document.getElementById("assessment-form");
  var logicNode = document.getElementById("client-logic");
  if (!form || !logicNode) { return; }

  var logic = JSON.parse(logicNode.textContent);
  var statusNode = document.getElementById("save-status");
  var versionInput = document.getElementById("version");
  var banner = document.getElementById("conflict-banner");
  var bannerText = document.getElementById("conflict-message");
  var keepMine = document.getElementById("conflict-keep-mine");
  var url = form.getAttribute("data-autosave-url");
  var section = form.getAttribute("data-section");
  var prefix = "yiyang.assessment." + form.getAttribute("data-assessment-id");
  var storeKey = prefix + "." + section;
  var focusKey = prefix + ".focus";
  var DELAY_MS = 1500;
  var timer = null;
  var saving = false;
  var again = false;
  var dirty = false;
  var inConflict = false;
  var serverVersion = null;
  var SKIP = { csrf_token: 1, version: 1, section: 1, go: 1 };

  // --- local copy ---------------------------------------------------------------------------
  function snapshot() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (!SKIP[name]) { out.push([name, String(value)]); }
    });
    return out;
  }
  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function keepLocal() {
    var s = storage();
    if (s) { s.setItem(storeKey, JSON.stringify({ version: versionInput.value, fields: snapshot(), at: Date.now() })); }
  }
  function dropLocal() {
    var s = storage();
    if (s) { s.removeItem(storeKey); }
  }
  function readLocal() {
    var s = storage();
    if (!s) { return null; }
    try { return JSON.parse(s.getItem(storeKey) || "null"); } catch (e) { return null; }
  }
  function restore(fields) {
    var byName = {};
    fields.forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "submit" || el.type === "button") { return; }
      var values = byName[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = values.indexOf(el.value) >= 0;
      } else {
        el.value = values.length ? values[0] : "";
      }
    });
  }
  function sameFields(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  // --- status and messages ------------------------------------------------------------------
  function setStatus(text, kind) {
    if (!statusNode) { return; }
    statusNode.textContent = text;
    statusNode.className = "save-status" + (kind ? " " + kind : "");
  }
  function clock() {
    var d = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }
  function showProblems(problems) {
    var byItem = {};
    (problems || []).forEach(function (p) { (byItem[p.item] = byItem[p.item] || []).push(p.message); });
    Array.prototype.forEach.call(form.querySelectorAll("[data-errors-for]"), function (box) {
      var itemId = box.getAttribute("data-errors-for");
      var messages = byItem[itemId] || [];
      box.textContent = "";
      messages.forEach(function (m) {
        var p = document.createElement("p");
        p.className = "error";
        p.textContent = m;
        box.appendChild(p);
      });
      var fieldset = box.parentNode;
      if (fieldset && fieldset.classList) { fieldset.classList.toggle("has-error", messages.length > 0); }
    });
  }
  function showConflict(message, version) {
    inConflict = true;
    serverVersion = version;
    keepLocal();
    if (banner) {
      bannerText.textContent = message;
      banner.hidden = false;
      banner.scrollIntoView({ block: "start" });
    }
    setStatus("未保存：与他人的修改冲突，您的答案保留在本设备上。", "is-error");
  }

  // --- skip logic: the engine's expressions as JSON, evaluated like scoring/expressions.py ------
  function truthy(v) {
    if (Array.isArray(v)) { return v.length > 0; }
    return !(v === null || v === undefined || v === false || v === 0 || v === "" || (typeof v === "number" && isNaN(v)));
  }
  function num(v) { return v === true ? 1 : v === false ? 0 : v; }
  function equal(a, b) {
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.length === b.length && a.every(function (x, i) { return equal(x, b[i]); });
    }
    if (typeof a === "boolean" || typeof b === "boolean") { return num(a) === num(b); }
    return a === b;
  }
  function contains(coll, v) {
    if (coll === null || coll === undefined) { return false; }
    if (Array.isArray(coll)) { return coll.some(function (x) { return equal(x, v); }); }
    if (typeof coll === "string") { return typeof v === "string" && coll.indexOf(v) >= 0; }
    return false;
  }
  function flat(args) {
    var out = [];
    args.forEach(function (v) {
      if (Array.isArray(v)) { v.forEach(function (x) { if (x !== null && x !== undefined) { out.push(x); } }); }
      else if (v !== null && v !== undefined) { out.push(v); }
    });
    return out;
  }
  var FUNCTIONS = {
    sum: function (a) { return flat(a).reduce(function (s, v) { return s + num(v); }, 0); },
    count: function (a) { return flat(a).filter(function (v) { return v !== false && v !== ""; }).length; },
    min: function (a) { var f = flat(a); return f.length ? Math.min.apply(null, f.map(num)) : null; },
    max: function (a) { var f = flat(a); return f.length ? Math.max.apply(null, f.map(num)) : null; },
    abs: function (a) { return a[0] === null ? null : Math.abs(a[0]); },
    round: function (a) { if (a[0] === null) { return null; } var k = Math.pow(10, a[1] || 0); return Math.round(a[0] * k) / k; },
    "if": function (a) { return truthy(a[0]) ? a[1] : (a.length > 2 ? a[2] : null); },
    answered: function (a) { var v = a[0]; return !(v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)); },
    len: function (a) { return a[0] === null || a[0] === undefined ? 0 : a[0].length; },
    contains: function (a) { return contains(a[0], a[1]); },
    any_in: function (a) { return a[0] !== null && a[1] !== null && (a[1] || []).some(function (v) { return contains(a[0], v); }); },
    coalesce: function (a) { for (var i = 0; i < a.length; i++) { if (a[i] !== null && a[i] !== undefined) { return a[i]; } } return null; }
  };
  function evaluate(node, values) {
    if (node === null || typeof node !== "object") { return node; }
    if (!Array.isArray(node)) {
      if (Object.prototype.hasOwnProperty.call(node, "ref")) {
        var v = values[node.ref];
        return v === undefined ? null : v;
      }
      return null;
    }
    var op = node[0];
    var rest = node.slice(1);
    var ev = function (n) { return evaluate(n, values); };
    switch (op) {
      case "and": return rest.every(function (n) { return truthy(ev(n)); });
      case "or": return rest.some(function (n) { return truthy(ev(n)); });
      case "not": return !truthy(ev(rest[0]));
      case "neg": var x = ev(rest[0]); return x === null ? null : -num(x);
      case "list": return rest.map(ev);
      case "==": return equal(ev(rest[0]), ev(rest[1]));
      case "!=": return !equal(ev(rest[0]), ev(rest[1]));
      case "in": return contains(ev(rest[1]), ev(rest[0]));
      case "not in": return !contains(ev(rest[1]), ev(rest[0]));
      case "<": case "<=": case ">": case ">=":
        var l = ev(rest[0]), r = ev(rest[1]);
        if (l === null || r === null) { return false; }
        l = num(l); r = num(r);
        return op === "<" ? l < r : op === "<=" ? l <= r : op === ">" ? l > r : l >= r;
      case "+": case "-": case "*": case "/": case "%":
        var a = ev(rest[0]), b = ev(rest[1]);
        if (a === null || b === null) { return null; }
        a = num(a); b = num(b);
        if ((op === "/" || op === "%") && b === 0) { return null; }
        return op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : op === "/" ? a / b : a % b;
      default:
        if (FUNCTIONS[op]) { return FUNCTIONS[op](rest.map(ev)); }
        return null;
    }
  }
  function typedValue(itemId, meta) {
    var name = meta.field;
    var controls = form.querySelectorAll("[name='" + name + "']");
    if (!controls.length) { return undefined; }
    var na = form.querySelector("[name='" + name + "__na']");
    if (na && na.checked) { return "na"; }
    var first = controls[0];
    var opt = function (key) { return Object.prototype.hasOwnProperty.call(meta.options, key) ? meta.options[key] : (key === "na" ? "na" : key); };
    if (first.type === "checkbox") {
      var list = [];
      Array.prototype.forEach.call(controls, function (c) { if (c.checked) { list.push(opt(c.value)); } });
      return list;
    }
    if (first.type === "radio") {
      var chosen = null;
      Array.prototype.forEach.call(controls, function (c) { if (c.checked) { chosen = c.value; } });
      if (chosen === null) { return null; }
      if (meta.type === "boolean" && !Object.keys(meta.options).length) { return chosen === "true"; }
      return opt(chosen);
    }
    var text = first.value.trim();
    if (text === "") { return null; }
    if (first.type === "number") { var n = Number(text); return isNaN(n) ? text : n; }
    return text;
  }
  function currentValues() {
    var values = {};
    Object.keys(logic.answers || {}).forEach(function (k) { values[k] = logic.answers[k]; });
    Object.keys(logic.items).forEach(function (itemId) {
      var v = typedValue(itemId, logic.items[itemId]);
      if (v !== undefined) {
        if (v === null) { delete values[itemId]; } else { values[itemId] = v; }
      }
    });
    Object.keys(values).forEach(function (k) { if (values[k] === "na") { delete values[k]; } });
    return values;
  }
  function setShown(itemId, shown) {
    var meta = logic.items[itemId];
    var box = meta && document.getElementById("item-" + meta.field);
    if (box) { box.hidden = !shown; }
  }
  function applySkipLogic() {
    var values = currentValues();
    Object.keys(logic.logic || {}).forEach(function (itemId) {
      var rule = logic.logic[itemId].relevant;
      if (rule) { setShown(itemId, truthy(evaluate(rule.ast, values))); }
    });
  }
  function applyRelevant(relevant) {
    if (!relevant) { return; }
    var shown = {};
    relevant.forEach(function (id) { shown[id] = true; });
    Object.keys(logic.items).forEach(function (itemId) {
      if (document.getElementById("item-" + logic.items[itemId].field)) { setShown(itemId, !!shown[itemId]); }
    });
  }

  // --- saving -------------------------------------------------------------------------------
  function save(options) {
    options = options || {};
    if (inConflict && !options.force) { return; }
    if (saving) { again = true; return; }
    saving = true;
    clearTimeout(timer);
    var body = new FormData(form);
    body.set("section", section);
    var token = body.get("csrf_token") || "";
    setStatus("正在保存…", "");
    fetch(url, {
      method: "POST", body: body, credentials: "same-origin", keepalive: !!options.keepalive,
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (res) {
      if (res.status === 200) {
        versionInput.value = res.data.version;
        dirty = false;
        dropLocal();
        setStatus("已自动保存 " + clock(), "is-saved");
        showProblems(res.data.problems);
        applyRelevant(res.data.relevant);
      } else if (res.status === 409 && res.data.error === "conflict") {
        showConflict(res.data.message, res.data.version);
      } else {
        setStatus((res.data && res.data.message) || "保存失败，请稍后重试。", "is-error");
      }
    }).catch(function () {
      setStatus("网络不通：答案已保存在本设备上，恢复网络后会自动保存。", "is-error");
    }).then(function () {
      saving = false;
      if (again) { again = false; schedule(); }
    });
  }
  function schedule() {
    dirty = true;
    keepLocal();
    clearTimeout(timer);
    if (!inConflict) {
      setStatus("有修改，稍后自动保存…", "");
      timer = setTimeout(save, DELAY_MS);
    }
  }
  function onChange(event) {
    applySkipLogic();
    schedule();
    var box = event.target && event.target.closest ? event.target.closest("[data-item]") : null;
    var s = storage();
    if (box && s) { s.setItem(focusKey, JSON.stringify({ section: section, item: box.id })); }
  }

  form.addEventListener("input", onChange);
  form.addEventListener("change", onChange);
  form.addEventListener("submit", function () {
    clearTimeout(timer);
    keepLocal();  // kept until the next page confirms the save
    dirty = false;
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && dirty) { save({ keepalive: true }); }
  });
  window.addEventListener("pagehide", function () { if (dirty) { save({ keepalive: true }); } });
  window.addEventListener("online", function () { if (dirty) { save(); } });
  if (keepMine) {
    keepMine.addEventListener("click", function () {
      if (serverVersion !== null) { versionInput.value = serverVersion; }
      inConflict = false;
      banner.hidden = true;
      save({ force: true });
    });
  }

  // --- on load: resume where the assessor was, recover what the server has not got ------------
  var local = readLocal();
  if (local && local.fields) {
    if (sameFields(local.fields, snapshot())) {
      dropLocal();
    } else if (String(local.version) === String(versionInput.value)) {
      restore(local.fields);
      dirty = true;
      save();
    } else {
      restore(local.fields);
      showConflict("本设备上有未保存的答案，但服务器上的记录已被修改（可能是另一位评估员）。" +
                   "下面显示的是本设备上的答案；请核对后选择保留哪一份。", Number(versionInput.value));
    }
  }
  applySkipLogic();
  var s = storage();
  var lastFocus = null;
  try { lastFocus = s ? JSON.parse(s.getItem(focusKey) || "null") : null; } catch (e) { lastFocus = null; }
  if (lastFocus && lastFocus.section === section && !document.querySelector(".conflict:not([hidden])")) {
    var target = document.getElementById(lastFocus.item);
    if (target && !location.hash) { target.scrollIntoView({ block: "center" }); }
  }
})();
