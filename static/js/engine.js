// 颐养 Yiyang — the scoring engine in the browser: runs a definition compiled by scoring/compiled.py
// (GET /api/v1/definitions/{id}/{version}/compiled) without the server: skip logic, the problems a
// review lists (required items, constraints, answer checks), calculated items and a preview of the
// score and level. It mirrors scoring/ (expressions.py, answers.py, engine.py, rules/) rule for
// rule, Python's semantics included (null comparisons, banker's rounding, number formatting);
// tests/scoring/test_scoring_client_parity.py holds it to the Python engine for every shipped pack.
// No dependencies, no eval: window.YiyangEngine = {load, relevance, problems, calculate, preview,
// evaluate, truthy}; the only expression evaluator of the pages (form.js, offline-form.js use it).
// One file (about 1,000 lines) on purpose: the offline shell caches one script, and the one mirror
// of scoring/ is read and checked against it in one place.
(function (root) {
  "use strict";
  var FORMAT = 1;
  var EPS = 1e-9;
  var has = function (o, k) { return Object.prototype.hasOwnProperty.call(o, k); };

  // --- Python's values: equality, truth, order, arithmetic, formatting ---------------------------
  function isBool(v) { return typeof v === "boolean"; }
  function isNumeric(v) { return typeof v === "number" || isBool(v); }
  function pnum(v) { return v === true ? 1 : v === false ? 0 : v; }
  function isNull(v) { return v === null || v === undefined; }
  function tuple(list) { Object.defineProperty(list, "pyTuple", { value: true }); return list; }

  function eq(a, b) {
    if (isNull(a) || isNull(b)) { return isNull(a) && isNull(b); }
    if (isNumeric(a) && isNumeric(b)) { return pnum(a) === pnum(b); }
    if (typeof a === "string" || typeof b === "string") { return a === b; }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (!!a.pyTuple !== !!b.pyTuple || a.length !== b.length) { return false; }
      for (var i = 0; i < a.length; i++) { if (!eq(a[i], b[i])) { return false; } }
      return true;
    }
    if (typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
      var ka = Object.keys(a), kb = Object.keys(b);
      return ka.length === kb.length && ka.every(function (k) { return has(b, k) && eq(a[k], b[k]); });
    }
    return false;
  }
  function truthy(v) {
    if (isNull(v) || v === false) { return false; }
    if (typeof v === "number") { return v !== 0; }  // NaN is true, as in Python
    if (typeof v === "string" || Array.isArray(v)) { return v.length > 0; }
    if (typeof v === "object") { return Object.keys(v).length > 0; }
    return true;
  }
  function codepoints(s) { return Array.from(s); }
  // a < b as Python orders them; undefined where Python raises TypeError
  function order(a, b) {
    if (isNumeric(a) && isNumeric(b)) { a = pnum(a); b = pnum(b); return a < b ? -1 : a > b ? 1 : 0; }
    if (typeof a === "string" && typeof b === "string") {
      var x = codepoints(a), y = codepoints(b);
      for (var i = 0; i < Math.min(x.length, y.length); i++) {
        var cx = x[i].codePointAt(0), cy = y[i].codePointAt(0);
        if (cx !== cy) { return cx < cy ? -1 : 1; }
      }
      return x.length - y.length < 0 ? -1 : x.length > y.length ? 1 : 0;
    }
    if (Array.isArray(a) && Array.isArray(b) && !!a.pyTuple === !!b.pyTuple) {
      for (var j = 0; j < Math.min(a.length, b.length); j++) {
        if (!eq(a[j], b[j])) { return order(a[j], b[j]); }
      }
      return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
    }
    return undefined;
  }
  function contains(coll, v) {
    if (isNull(coll)) { return false; }
    if (typeof coll === "string") { return typeof v === "string" && coll.indexOf(v) >= 0; }
    if (Array.isArray(coll)) { return coll.some(function (x) { return eq(x, v); }); }
    if (typeof coll === "object") { return typeof v === "string" && has(coll, v); }
    return false;
  }
  function compare(op, a, b) {
    if (op === "==") { return eq(a, b); }
    if (op === "!=") { return !eq(a, b); }
    if (op === "in" || op === "not in") {
      var found = !isNull(b) && contains(b, a);
      return op === "in" ? found : !found;
    }
    if (isNull(a) || isNull(b)) { return false; }
    var c = order(a, b);
    if (c === undefined) { return false; }
    return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
  }
  // Python repeats a text by a whole number; a count too large to hold is a refusal there (null here)
  function repeat(s, n) {
    if (n > 1e6) { return null; }
    if (typeof s === "string") { return n > 0 ? s.repeat(n) : ""; }
    var out = [];
    for (var i = 0; i < n; i++) { out = out.concat(s); }
    return s.pyTuple ? tuple(out) : out;
  }
  function arith(op, a, b) {
    if (isNull(a) || isNull(b)) { return null; }
    a = pnum(a); b = pnum(b);
    var na = typeof a === "number", nb = typeof b === "number";
    if (na && nb) {
      if (op === "+") { return a + b; }
      if (op === "-") { return a - b; }
      if (op === "*") { return a * b; }
      return b === 0 ? null : a / b;
    }
    if (op === "+" && typeof a === "string" && typeof b === "string") { return a + b; }
    if (op === "+" && Array.isArray(a) && Array.isArray(b) && !!a.pyTuple === !!b.pyTuple) {
      return a.concat(b);
    }
    if (op === "*" && nb && Number.isInteger(b) && (typeof a === "string" || Array.isArray(a))) { return repeat(a, b); }
    if (op === "*" && na && Number.isInteger(a) && (typeof b === "string" || Array.isArray(b))) { return repeat(b, a); }
    return null;
  }

  // The exact decimal digits of a double (Python rounds and formats on these, ties to even).
  function fixed(x, digits) {
    var negative = x < 0 || Object.is(x, -0);
    var a = Math.abs(x);
    var out = a.toFixed(digits);
    if (a < 1e21) {
      var exact = a.toFixed(100).split(".");
      var tail = exact[1].slice(digits);
      if (/^50*$/.test(tail)) {  // a tie: toFixed went up, Python goes to the even neighbour
        var down = exact[0] + (digits ? "." + exact[1].slice(0, digits) : "");
        var last = Number(down.charAt(down.length - 1));
        if (last % 2 === 0) { out = down; }
      }
    }
    return (negative ? "-" : "") + out;
  }
  function pyRound(x, digits) {
    if (typeof x !== "number" || !isFinite(x)) { return x; }
    if (Number.isInteger(x) && digits >= 0) { return x; }
    if (digits < 0) {
      var unit = Math.pow(10, -digits);
      var q = x / unit, fl = Math.floor(q), diff = q - fl;
      var r = diff > 0.5 ? fl + 1 : diff < 0.5 ? fl : (fl % 2 === 0 ? fl : fl + 1);
      return r * unit;
    }
    var value = Number(fixed(x, digits));
    return value === 0 ? 0 * Math.sign(x) || 0 : value;
  }
  function num(v) {
    if (typeof v !== "number") { return v; }
    if (!isFinite(v)) { return null; }
    return Number.isInteger(v) ? v : pyRound(v, 4);
  }
  function pyRepr(v) {
    if (isNull(v)) { return "None"; }
    if (v === true) { return "True"; }
    if (v === false) { return "False"; }
    if (typeof v === "number") {
      if (!isFinite(v)) { return isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf"; }
      return String(v);
    }
    if (typeof v === "string") {
      var quote = v.indexOf("'") >= 0 && v.indexOf('"') < 0 ? '"' : "'";
      var body = v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
      if (quote === "'") { body = body.replace(/'/g, "\\'"); }
      return quote + body + quote;
    }
    if (Array.isArray(v)) {
      var inner = v.map(pyRepr).join(", ");
      return v.pyTuple ? "(" + inner + (v.length === 1 ? ",)" : ")") : "[" + inner + "]";
    }
    return "{" + Object.keys(v).map(function (k) { return pyRepr(k) + ": " + pyRepr(v[k]); }).join(", ") + "}";
  }
  // scoring.rules.fmt: 57, 27.5, 0.9
  function fmt(v) {
    if (typeof v === "number") {
      if (!isFinite(v)) { return isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf"; }
      if (Number.isInteger(v)) { return String(v); }
      return fixed(v, 2).replace(/0+$/, "").replace(/\.$/, "");
    }
    if (typeof v === "string") { return v; }
    return pyRepr(v);
  }
  function scalarText(v) { return v === true ? "true" : v === false ? "false" : fmt(v); }
  function typeName(v) {
    if (isNull(v)) { return "null"; }
    if (isBool(v)) { return "boolean"; }
    if (typeof v === "number") { return "number"; }
    if (typeof v === "string") { return "text"; }
    if (Array.isArray(v)) { return "list"; }
    return "dict";
  }
  function isNumber(v) { return typeof v === "number" && isFinite(v); }
  function hashable(v) { return isNull(v) || typeof v === "string" || typeof v === "number" || isBool(v); }

  // --- the expression language (scoring/expressions.py, JSON form of Expression.to_json) --------
  function flat(args) {
    var out = [];
    args.forEach(function (v) {
      if (Array.isArray(v)) { v.forEach(function (x) { if (!isNull(x)) { out.push(x); } }); }
      else if (!isNull(v)) { out.push(v); }
    });
    return out;
  }
  function extreme(values, sign) {
    if (!values.length) { return null; }
    var best = values[0];
    for (var i = 1; i < values.length; i++) {
      var c = order(values[i], best);
      if (c === undefined) { return null; }
      if (c * sign > 0) { best = values[i]; }
    }
    return best;
  }
  function toInt(v) {
    v = pnum(v);
    if (typeof v === "number") { return Math.trunc(v); }
    if (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v)) { return parseInt(v, 10); }
    return null;
  }
  var FUNCTIONS = {
    sum: function (a) {
      var total = 0;
      var values = flat(a);
      for (var i = 0; i < values.length; i++) {
        var x = pnum(values[i]);
        if (typeof x !== "number") { return null; }
        total += x;
      }
      return total;
    },
    count: function (a) { return flat(a).filter(function (v) { return v !== false && v !== ""; }).length; },
    min: function (a) { return extreme(flat(a), -1); },
    max: function (a) { return extreme(flat(a), 1); },
    abs: function (a) { var v = pnum(a[0]); return typeof v === "number" ? Math.abs(v) : null; },
    round: function (a) {
      var v = pnum(a[0]);
      if (typeof v !== "number") { return null; }
      return pyRound(v, a.length > 1 ? toInt(a[1]) : 0);
    },
    "if": function (a) { return truthy(a[0]) ? a[1] : (a.length > 2 ? a[2] : null); },
    answered: function (a) {
      var v = a[0];
      return !(isNull(v) || v === "" || (Array.isArray(v) && !v.pyTuple && v.length === 0));
    },
    len: function (a) {
      var v = a[0];
      if (isNull(v)) { return 0; }
      if (typeof v === "string") { return codepoints(v).length; }
      if (Array.isArray(v)) { return v.length; }
      if (typeof v === "object") { return Object.keys(v).length; }
      return null;
    },
    contains: function (a) { return !isNull(a[0]) && contains(a[0], a[1]); },
    any_in: function (a) {
      if (isNull(a[0]) || isNull(a[1])) { return false; }
      var values = typeof a[1] === "string" ? codepoints(a[1]) : Array.isArray(a[1]) ? a[1] : [];
      return values.some(function (v) { return contains(a[0], v); });
    },
    coalesce: function (a) {
      for (var i = 0; i < a.length; i++) { if (!isNull(a[i])) { return a[i]; } }
      return null;
    }
  };
  var COMPARE = { "==": 1, "!=": 1, "<": 1, "<=": 1, ">": 1, ">=": 1, "in": 1, "not in": 1 };
  var ARITH = { "+": 1, "-": 1, "*": 1, "/": 1 };

  function isLiteral(node) { return node === null || typeof node !== "object"; }
  function evaluate(node, values, facts, self) {
    if (isLiteral(node)) { return node; }
    if (!Array.isArray(node)) {
      if (has(node, "ref")) {
        var name = node.ref;
        if (name.indexOf("facts.") === 0) {
          var key = name.slice(6);
          return has(facts, key) && !isNull(facts[key]) ? facts[key] : null;
        }
        return has(values, name) && !isNull(values[name]) ? values[name] : null;
      }
      if (node.self) { return has(values, self || "") && !isNull(values[self]) ? values[self] : null; }
      return null;
    }
    var op = node[0];
    var ev = function (n) { return evaluate(n, values, facts, self); };
    if (op === "and") { return truthy(ev(node[1])) && truthy(ev(node[2])); }
    if (op === "or") { return truthy(ev(node[1])) || truthy(ev(node[2])); }
    if (op === "not") { return !truthy(ev(node[1])); }
    if (op === "neg") { return arith("-", 0, ev(node[1])); }
    if (op === "list") {
      var parts = node.slice(1);
      var list = parts.map(ev);
      return parts.every(isLiteral) ? tuple(list) : list;
    }
    if (has(COMPARE, op)) { return compare(op, ev(node[1]), ev(node[2])); }
    if (has(ARITH, op)) { return arith(op, ev(node[1]), ev(node[2])); }
    if (has(FUNCTIONS, op)) { return FUNCTIONS[op](node.slice(1).map(ev)); }
    throw new Error("unknown expression node " + op);
  }

  // --- loading ------------------------------------------------------------------------------
  function load(compiled) {
    var doc = typeof compiled === "string" ? JSON.parse(compiled) : compiled;
    if (!doc || doc.format !== FORMAT) {
      throw new Error("compiled definition format " + (doc && doc.format) + " is not " + FORMAT);
    }
    var items = {}, sections = {};
    doc.items.forEach(function (item) { items[item.id] = item; });
    doc.sections.forEach(function (section) { sections[section.id] = section; });
    return {
      doc: doc, id: doc.id, version: doc.version, kind: doc.kind, checksum: doc.checksum,
      items: items, sections: sections,
      calculated: doc.items.filter(function (i) { return i.calculate !== null; }),
      withDefaults: doc.items.filter(function (i) { return i.has_default; }),
      hasRelevance: doc.items.some(function (i) { return i.relevant !== null; }) ||
        doc.sections.some(function (s) { return s.relevant !== null; })
    };
  }

  // --- answers: checks, defaults, skip logic, calculations, required, constraints --------------
  function render(def, code, params) {
    var pair = def.doc.messages[code];
    function fill(template, lang) {
      return template.replace(/\{(\w+)\}/g, function (_, key) {
        var v = params[key];
        if (v && typeof v === "object" && !Array.isArray(v) && has(v, "zh")) { v = v[lang]; }
        return typeof v === "string" ? v : pyRepr(v);
      });
    }
    return { message: fill(pair[0], "zh"), message_en: fill(pair[1], "en") };
  }
  function problem(def, item, code, params) {
    var text = render(def, code, params || {});
    return { item: item, code: code, message: text.message, message_en: text.message_en };
  }
  function bi(pair) { return { zh: pair[0], en: pair[1] }; }
  function matchesOption(optionValue, value) {
    return isBool(optionValue) === isBool(value) && eq(optionValue, value);
  }
  function findOption(item, value) {
    if (!hashable(value)) { return null; }
    for (var i = 0; i < item.options.length; i++) {
      if (matchesOption(item.options[i].value, value)) { return item.options[i]; }
    }
    return null;
  }
  function isDate(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text) || /^(\d{4})(\d{2})(\d{2})$/.exec(text);
    if (m) {
      var y = +m[1], mo = +m[2], d = +m[3];
      if (y < 1 || mo < 1 || mo > 12 || d < 1) { return false; }
      var days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
      return d <= days[mo - 1];
    }
    var w = /^(\d{4})-W(\d{2})(?:-(\d))?$/.exec(text) || /^(\d{4})W(\d{2})(\d)?$/.exec(text);
    if (!w) { return false; }
    var year = +w[1], week = +w[2], day = w[3] === undefined ? 1 : +w[3];
    if (year < 1 || day < 1 || day > 7 || week < 1 || week > 53) { return false; }
    if (week === 53) {
      var jan1 = new Date(Date.UTC(2000, 0, 1));
      jan1.setUTCFullYear(year);
      var weekday = jan1.getUTCDay();  // 0 Sunday .. 6 Saturday
      var leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
      return weekday === 4 || (weekday === 3 && leap);
    }
    return true;
  }
  // scoring.items: the check of one answer → [coerced, problem]
  function check(def, item, value) {
    var spec = item.check, id = item.id;
    var expected = bi(spec.expected);
    if (spec.check === "multi") {
      if (!Array.isArray(value)) { return [null, problem(def, id, "wrong_type", { got: typeName(value), expected: expected })]; }
      var bad = value.filter(function (v) { return findOption(item, v) === null; });
      if (bad.length) { return [null, problem(def, id, "not_options", { value: bad, allowed: bi(spec.allowed) })]; }
      for (var i = 0; i < value.length; i++) {
        for (var j = i + 1; j < value.length; j++) {
          if (eq(value[i], value[j])) { return [null, problem(def, id, "duplicate_option", { value: value.slice() })]; }
        }
      }
      return [value.slice(), null];
    }
    if (spec.check === "choice") {
      if (findOption(item, value) !== null) { return [value, null]; }
      if (Array.isArray(value) || (value !== null && typeof value === "object")) {
        return [null, problem(def, id, "wrong_type", { got: typeName(value), expected: expected })];
      }
      return [null, problem(def, id, "not_an_option", { value: scalarText(value), allowed: bi(spec.allowed) })];
    }
    if (spec.check === "boolean") {
      return isBool(value) ? [value, null] : [null, problem(def, id, "wrong_type", { got: typeName(value), expected: expected })];
    }
    if (spec.check === "number") {
      if (!isNumber(value) || (spec.integral && !Number.isInteger(value))) {
        return [null, problem(def, id, "wrong_type", { got: isNumber(value) ? fmt(value) : typeName(value), expected: expected })];
      }
      var lo = spec.min, hi = spec.max;
      if ((lo !== null && value < lo) || (hi !== null && value > hi)) {
        return [null, problem(def, id, "out_of_range", { value: fmt(value), minimum: lo !== null ? fmt(lo) : "-∞",
                                                        maximum: hi !== null ? fmt(hi) : "∞" })];
      }
      if (spec.step && Math.abs(value / spec.step - Math.round(value / spec.step)) > 1e-9) {
        return [null, problem(def, id, "not_multiple", { value: fmt(value), step: fmt(spec.step) })];
      }
      return [value, null];
    }
    if (spec.check === "date") {
      if (typeof value !== "string") { return [null, problem(def, id, "wrong_type", { got: typeName(value), expected: expected })]; }
      return isDate(value) ? [value, null] : [null, problem(def, id, "bad_date", { value: value })];
    }
    if (spec.many && Array.isArray(value) && value.every(function (v) { return typeof v === "string"; })) { return [value, null]; }
    if (typeof value !== "string") { return [null, problem(def, id, "wrong_type", { got: typeName(value), expected: expected })]; }
    var length = codepoints(value).length;
    if (spec.max_length !== null && length > spec.max_length) {
      return [null, problem(def, id, "too_long", { length: String(length), maximum: String(spec.max_length) })];
    }
    return [value, null];
  }
  function sectionTop(section) { return section.declared_max !== null ? section.declared_max : section.max; }

  // scoring.answers._prepare
  function prepare(def, answers, facts, partial) {
    var doc = def.doc;
    var errors = [], warnings = [];
    var values = Object.create(null), na = {}, direct = {}, invalid = {}, hidden = {};
    facts = facts || {};
    if (!answers || typeof answers !== "object" || Array.isArray(answers)) {
      return { values: values, facts: facts, errors: [problem(def, null, "bad_input", { detail: { zh: "answers 应为对象", en: "answers must be an object" } })],
               warnings: [], na: na, direct: direct, hidden: hidden };
    }
    Object.keys(answers).forEach(function (key) {
      var value = answers[key];
      var item = has(def.items, key) ? def.items[key] : null;
      if (item === null) {
        var section = def.kind === "rating" && has(def.sections, key) ? def.sections[key] : null;
        if (section !== null && section.scored) {
          var top = sectionTop(section);
          if (!isNumber(value)) {
            errors.push(problem(def, key, "wrong_type", { got: typeName(value),
              expected: { zh: "分项得分，0 至 " + fmt(top), en: "a section score from 0 to " + fmt(top) } }));
          } else if (!(value >= 0 && value <= top)) {
            errors.push(problem(def, key, "out_of_range", { value: fmt(value), minimum: "0", maximum: fmt(top) }));
          } else {
            direct[key] = true;
            values["section." + key] = value;
          }
          return;
        }
        errors.push(problem(def, key, "unknown_item", { name: key, definition: def.id }));
        return;
      }
      if (isNull(value)) { return; }
      if (item.calculate !== null) { errors.push(problem(def, key, "calculated_item")); return; }
      if (value === "na" && item.type !== "text") {
        if (item.na_allowed) { na[key] = true; } else { errors.push(problem(def, key, "not_applicable_refused")); }
        return;
      }
      var checked = check(def, item, value);
      if (checked[1] !== null) { errors.push(checked[1]); invalid[key] = true; } else { values[key] = checked[0]; }
    });
    checkFacts(def, facts, errors);
    doc.sections.forEach(function (section) {
      if (!direct[section.id]) { return; }
      var both = section.items.filter(function (id) { return id in values || na[id]; });
      if (both.length) { errors.push(problem(def, section.id, "section_and_items", { section: section.id, items: both })); }
    });
    def.withDefaults.forEach(function (item) {
      var id = item.id;
      if (!(id in values) && !na[id] && !has(answers, id)) {
        values[id] = item.default;
        if (!partial) {
          warnings.push({ zh: id + " 未作答，按默认值 " + scalarText(item.default) + " 计",
                          en: id + " not answered; default " + scalarText(item.default) + " used" });
        }
      }
    });
    if (def.hasRelevance) {
      doc.sections.forEach(function (section) {
        var on = section.relevant === null || truthy(evaluate(section.relevant, values, facts));
        section.items.forEach(function (id) {
          var item = def.items[id];
          var shown = on && (item.relevant === null || truthy(evaluate(item.relevant, values, facts, id)));
          if (shown) { return; }
          hidden[id] = true;
          if (!isNull(answers[id]) && id in values) {
            warnings.push({ zh: id + " 不适用于当前作答（跳题），其答案不计",
                            en: id + " is skipped by the skip logic; answer ignored" });
          }
          delete values[id];
          delete na[id];
        });
      });
    }
    def.calculated.forEach(function (item) {
      if (!hidden[item.id]) { values[item.id] = evaluate(item.calculate, values, facts, item.id); }
    });
    doc.sections.forEach(function (section) {
      if (direct[section.id]) { return; }
      section.items.forEach(function (id) {
        var item = def.items[id];
        if (hidden[id] || na[id] || invalid[id]) { return; }
        if (!(id in values)) {
          if (item.required && !partial && item.calculate === null) {
            errors.push(problem(def, id, "required", { allowed: item.allowed }));
          }
          return;
        }
        if (item.constraint !== null && !truthy(evaluate(item.constraint, values, facts, id))) {
          var msg = item.constraint_message;
          errors.push(problem(def, id, "constraint", {
            message: msg ? msg.zh : "不满足约束条件 " + item.constraint_source,
            message_en: msg ? msg.en : "constraint not met: " + item.constraint_source }));
        }
      });
    });
    Object.keys(hidden).forEach(function (id) { na[id] = true; });
    if (!partial) {
      doc.sections.forEach(function (section) {
        if (!(section.required && section.scored && !section.items.length) || direct[section.id]) { return; }
        errors.push(problem(def, section.id, "required_section", { maximum: fmt(sectionTop(section)) }));
      });
    }
    return { values: values, facts: facts, errors: named(def, errors), warnings: warnings, na: na, direct: direct, hidden: hidden };
  }
  function checkFacts(def, facts, errors) {
    var veto = facts.veto;
    if (isNull(veto)) { return; }
    if (!Array.isArray(veto) || !veto.every(function (v) { return typeof v === "string"; })) {
      errors.push(problem(def, "facts.veto", "bad_fact", { fact: "veto", detail: { zh: "应为一票否决代码列表", en: "a list of veto codes" } }));
      return;
    }
    var codes = def.doc.veto_codes;
    var unknown = veto.filter(function (v) { return !has(codes, v); });
    if (unknown.length) {
      var known = Object.keys(codes).sort();
      errors.push(problem(def, "facts.veto", "not_options", { value: unknown, allowed: {
        zh: known.join("、") || "（本方案无一票否决项）", en: known.join(", ") || "(this scheme has no veto codes)" } }));
    }
  }
  // scoring.answers._named: "B.1.1 进食：必填项未作答"
  function named(def, errors) {
    errors.forEach(function (error) {
      var key = error.item;
      if (typeof key !== "string") { return; }
      var title = has(def.items, key) ? def.items[key].title : has(def.sections, key) ? def.sections[key].title : null;
      if (title === null) { return; }
      error.label = title.zh;
      error.message = key + " " + title.zh + "：" + error.message;
      error.message_en = key + " " + title.en + ": " + error.message_en;
    });
    return errors;
  }

  // --- public: skip logic, problems, calculations ---------------------------------------------
  // scoring.engine.relevant_items: every item id → shown?
  function relevance(def, answers, facts) {
    var prep = prepare(def, answers, facts, true);
    var out = {};
    def.doc.sections.forEach(function (section) {
      var on = section.relevant === null || truthy(evaluate(section.relevant, prep.values, prep.facts));
      section.items.forEach(function (id) {
        var item = def.items[id];
        out[id] = on && (item.relevant === null || truthy(evaluate(item.relevant, prep.values, prep.facts, id)));
      });
    });
    return out;
  }
  // scoring.validate_answers: [{item, message, code}] in `lang`; options.partial as on autosave
  function problems(def, answers, lang, options) {
    var partial = !!(options && options.partial);
    return prepare(def, answers, options && options.facts, partial).errors.map(function (e) {
      return { item: e.item, code: e.code, message: lang === "en" ? e.message_en : e.message };
    });
  }
  // the answers with every calculated item (that skip logic shows) filled in
  function calculate(def, answers, facts) {
    var prep = prepare(def, answers, facts, true);
    var out = {};
    Object.keys(answers || {}).forEach(function (k) { out[k] = answers[k]; });
    def.calculated.forEach(function (item) {
      if (prep.hidden[item.id]) { delete out[item.id]; } else { out[item.id] = prep.values[item.id]; }
    });
    return out;
  }

  // --- scoring: section scores, the total, the rules (scoring/engine.py, scoring/rules/) ------
  function levelName(def, code, scale) {
    if (isNull(code)) { return ["无等级", "no level"]; }
    var list = scale ? (def.doc.scales[scale] || []) : def.doc.levels;
    for (var i = 0; i < list.length; i++) {
      if (list[i].code === code) { return [list[i].label.zh, list[i].label.en]; }
    }
    return [String(code), String(code)];
  }
  function State(def, values, facts) {
    this.def = def; this.values = values; this.facts = facts; this.sections = {}; this.order = [];
    this.total = null; this.max_total = 0; this.level = null; this.preliminary = null;
    this.adjusted = false; this.adjustments = []; this.vetoes = []; this.veto_grade = null;
    this.floors_failed = []; this.unqualified = null; this.steps = []; this.warnings = [];
    this.findings = []; this.policies_used = [];
  }
  State.prototype.explain = function (zh, en) { this.steps.push({ zh: zh, en: en }); };
  State.prototype.warn = function (zh, en) { this.warnings.push({ zh: zh, en: en }); };
  State.prototype.setLevel = function (code) {
    this.level = code;
    if (!this.adjusted) { this.preliminary = code; }
    this.values.level = code;
  };
  State.prototype.levelName = function (code, scale) { return levelName(this.def, code, scale); };
  State.prototype.usePolicy = function (name, mention) {
    if (name && this.policies_used.indexOf(name) < 0) { this.policies_used.push(name); }
    return mention;
  };
  State.prototype.section = function (id) { return has(this.sections, id) ? this.sections[id] : null; };
  State.prototype.addSection = function (id, entry) {
    if (!has(this.sections, id)) { this.order.push(id); }
    this.sections[id] = entry;
  };
  function ev(state, node) { return evaluate(node, state.values, state.facts); }
  function store(state, target, code, section, scale) {
    if (target === "level") { state.setLevel(code); } else { state.values[target] = code; }
    if (section && state.section(section)) {
      var name = state.levelName(code, scale);
      state.sections[section].grade = { code: code, label: name[0], label_en: name[1] };
    }
  }
  function sectionTitle(def, id) { return def.sections[id].title; }

  var RULES = {
    bands: function (rule, state) {
      var value = rule.from_total ? state.total : ev(state, rule.source);
      var nzh = rule.source_name[0], nen = rule.source_name[1];
      if (isNull(value)) {
        state.warn(nzh + "缺失，无法定级", nen + " missing; no level");
        store(state, rule.target, null, rule.section, rule.scale);
        return;
      }
      var code = null, rng = "—";
      if (rule.closed) {
        var matches = rule.bands.filter(function (b) { return b[0] - EPS <= value && value <= b[1] + EPS; })
          .map(function (b) { return b[2]; });
        if (!matches.length) {
          state.warn(nzh + " " + fmt(value) + " 不在任何分数段内", nen + " " + fmt(value) + " is in no band");
        } else {
          code = matches.length > 1 ? Math.max.apply(null, matches) : matches[0];
          if (matches.length > 1) {
            state.warn(nzh + " " + fmt(value) + " 落在多个重叠分数段，取最高代码 " + code,
                       nen + " " + fmt(value) + " is in overlapping bands; took code " + code);
          }
        }
        rng = code !== null && has(rule.ranges, String(code)) ? rule.ranges[String(code)] : "—";
      } else {
        for (var i = 0; i < rule.bands.length; i++) {
          var lo = rule.bands[i][0], c = rule.bands[i][2], floor = rule.bands[i][3];
          if (value + EPS < lo) { continue; }
          if (floor !== null && rule.has_floors) {
            var failed = state.order.filter(function (sid) {
              var sec = state.sections[sid];
              return truthy(sec.max) && sec.score + EPS < floor * sec.max;
            });
            if (failed.length) {
              var lvl = state.levelName(c, rule.scale);
              failed.forEach(function (sid) {
                var sec = state.sections[sid];
                state.floors_failed.push({ level: c, section: sid, score: sec.score, required: num(floor * sec.max), max: sec.max });
              });
              var pz = failed.map(function (sid) { var s = state.sections[sid]; return sectionTitle(state.def, sid).zh + " " + fmt(s.score) + "/" + fmt(s.max); }).join("、");
              var pe = failed.map(function (sid) { var s = state.sections[sid]; return sectionTitle(state.def, sid).en + " " + fmt(s.score) + "/" + fmt(s.max); }).join(", ");
              state.explain(nzh + " " + fmt(value) + " 达到" + lvl[0] + "（≥" + fmt(lo) + "），但" + pz + " 低于该级分项最低要求 " + fmt(floor * 100) + "%，不能评为" + lvl[0],
                            nen + " " + fmt(value) + " reaches " + lvl[1] + " (≥" + fmt(lo) + ") but " + pe + " is below that level's section floor of " + fmt(floor * 100) + "%");
              continue;
            }
          }
          code = c;
          rng = "≥" + fmt(lo);
          break;
        }
        if (code === null) {
          state.warn(nzh + " " + fmt(value) + " 低于最低分数段", nen + " " + fmt(value) + " is below the lowest band");
        }
      }
      store(state, rule.target, code, rule.section, rule.scale);
      var name = state.levelName(code, rule.scale);
      state.explain(nzh + " " + fmt(value) + "（" + rng + "）→ " + name[0], nen + " " + fmt(value) + " (" + rng + ") → " + name[1]);
    },
    adjustments: function (rule, state) {
      var base = state.level;
      state.adjusted = true;
      if (isNull(base)) { return; }
      var fired = [];
      rule.adjustments.forEach(function (a) {
        var hit = truthy(ev(state, a.when));
        if (a.switch_policy !== null && a.others.length &&
            a.others.some(function (alt) { return truthy(ev(state, alt)) !== hit; })) {
          state.usePolicy(a.switch_policy);
          var said = hit ? a.decided : a.not_decided;
          state.explain(said[0], said[1]);
        }
        if (hit) { fired.push(a); }
      });
      if (!fired.length) { return; }
      var raises = fired.filter(function (a) { return a.effect === "raise"; });
      var level = base;
      if (raises.length) {
        var by = raises.map(function (a) { return a.by; });
        level = base + (rule.stacking === "raise_once" ? Math.max.apply(null, by) : by.reduce(function (x, y) { return x + y; }, 0));
        raises.forEach(function (a) { state.explain(a.text[0], a.text[1]); });
        if (raises.length > 1 && rule.stacking_policy) {
          var p = state.usePolicy(rule.stacking_policy, rule.stacking_mention);
          var once = rule.stacking === "raise_once";
          state.explain(raises.length + " 项提高条件同时满足：" + p[0] + "，" + (once ? "只提高一次" : "逐项累加"),
                        raises.length + " raise conditions hold: " + p[1] + ", " + (once ? "raised once" : "raises added up"));
        }
        var baseName = state.levelName(base);
        var shown = rule.cap !== null ? Math.min(level, rule.cap) : level;
        var newName = state.levelName(shown);
        if (shown === base) {
          state.explain(baseName[0] + " 已是最高等级，不再提高", baseName[1] + " is already the highest level");
          level = base;
        } else {
          state.explain(baseName[0] + " → " + newName[0], baseName[1] + " → " + newName[1]);
        }
      }
      fired.forEach(function (a) {
        state.adjustments.push(Object.assign({}, a.record));
        if (a.effect === "set" && a.to !== null) {
          if (a.to_policy) { state.usePolicy(a.to_policy); }
          if (level >= a.to) {
            var cur = state.levelName(level);
            state.explain(a.kept[0] + "当前已为" + cur[0] + "，等级不变", a.kept[1] + "already " + cur[1] + ", level unchanged");
          } else {
            state.explain(a.text[0], a.text[1]);
            level = a.to;
          }
        }
      });
      if (rule.cap !== null && level > rule.cap) {
        var capName = state.levelName(rule.cap);
        state.explain("调整后超过上限，按上限 " + capName[0], "capped at " + capName[1]);
        level = rule.cap;
      }
      state.setLevel(level);
    },
    cap: function (rule, state) {
      if (isNull(state.level) || !truthy(ev(state, rule.when))) { return; }
      var zh = rule.label[0], en = rule.label[1];
      if (!rule.enabled) {
        if (rule.policy) {
          var p = state.usePolicy(rule.policy, rule.policy_mention);
          state.explain(zh + "：条件成立，但" + p[0] + "，未启用", en + ": condition holds but " + p[1] + ": not applied");
        }
        return;
      }
      if (rule.max !== null && state.level > rule.max) {
        var old = state.levelName(state.level), now = state.levelName(rule.max);
        var named = [];
        if (rule.policy) { named.push(state.usePolicy(rule.policy, rule.policy_mention)); }
        if (rule.max_policy) { named.push(state.usePolicy(rule.max_policy, rule.max_mention)); }
        var pz = named.map(function (n) { return n[0]; }).join("；"), pe = named.map(function (n) { return n[1]; }).join("; ");
        state.explain((zh + "：" + old[0] + " → " + now[0] + " " + pz).replace(/\s+$/, ""),
                      (en + ": " + old[1] + " → " + now[1] + " " + pe).replace(/\s+$/, ""));
        state.adjustments.push({ id: rule.id || "cap", label: zh, label_en: en, effect: "cap", to: rule.max });
        state.adjusted = true;
        state.setLevel(rule.max);
      }
    },
    floors: function (rule, state) {
      var failed = false;
      rule.floors.forEach(function (fl) {
        var sec = state.section(fl.section);
        if (sec === null) { return; }
        var need = fl.min !== null ? fl.min : (fl.min_fraction || 0) * (sec.max || 0);
        if (sec.score + 1e-9 < need) {
          failed = true;
          state.floors_failed.push({ level: rule.cap, section: fl.section, score: sec.score, required: need, max: sec.max });
          var title = sectionTitle(state.def, fl.section);
          state.explain(title.zh + " " + fmt(sec.score) + " 低于最低要求 " + fmt(need),
                        title.en + " " + fmt(sec.score) + " is below the floor " + fmt(need));
        }
      });
      if (failed && !isNull(state.level) && state.level > rule.cap) {
        var name = state.levelName(rule.cap);
        state.explain("分项未达最低要求 → 至多 " + name[0], "section floor failed → at most " + name[1]);
        state.setLevel(rule.cap);
      }
    },
    veto: function (rule, state) {
      var raw = Array.isArray(state.facts.veto) ? state.facts.veto : [];
      raw.forEach(function (code) {
        if (!has(rule.codes, code)) { return; }
        if (!state.vetoes.some(function (v) { return v.code === code; })) {
          state.vetoes.push({ code: code, label: rule.codes[code].zh, label_en: rule.codes[code].en });
        }
      });
      if (state.vetoes.length) { state.veto_grade = rule.grade; }
    },
    unqualified: function (rule, state) {
      var value = ev(state, rule.source);
      if (isNull(value)) { return; }
      state.unqualified = value + 1e-9 < rule.below;
      if (state.unqualified) {
        if (rule.days && rule.days_policy) { state.usePolicy(rule.days_policy); }
        state.explain("得分 " + fmt(value) + " 低于 " + fmt(rule.below) + " → 不合格" + rule.days_text[0],
                      "score " + fmt(value) + " is below " + fmt(rule.below) + " → unqualified" + rule.days_text[1]);
      }
    },
    decision_table: function (rule, state) {
      var matches = rule.rows.filter(function (row) { return truthy(ev(state, row[0])); }).map(function (row) { return row[1]; });
      var decided = null, code;
      var zh = rule.label[0], en = rule.label[1];
      if (!matches.length) {
        code = rule.default;
        var nz = "", ne = "";
        if (rule.fallback !== null) {
          var value = ev(state, rule.fallback);
          code = !isNull(value) ? toInt(value) : rule.default;
        }
        if (rule.fallback_policy) {
          decided = state.usePolicy(rule.fallback_policy, rule.fallback_mention);
          nz = "；" + decided[0];
          ne = "; " + decided[1];
        }
        var d = state.levelName(code, rule.scale);
        state.warn(zh + "：组合未被任何规则覆盖，取默认 " + d[0] + nz, en + ": no rule matches this combination; default " + d[1] + ne);
      } else {
        code = rule.precedence === "highest" ? Math.max.apply(null, matches)
          : rule.precedence === "lowest" ? Math.min.apply(null, matches) : matches[0];
        var distinct = matches.filter(function (m, i) { return matches.indexOf(m) === i; }).sort(function (a, b) { return a - b; });
        if (distinct.length > 1 && rule.warn_on_conflict) {
          var note = rule.precedence_policy ? state.usePolicy(rule.precedence_policy, rule.precedence_mention)
            : ["按声明的优先规则 " + rule.precedence, "by the declared precedence " + rule.precedence];
          if (rule.precedence_policy) { decided = note; }
          var lv = state.levelName(code, rule.scale);
          state.warn(zh + "：同时符合多条规则（" + pyRepr(distinct) + "），" + note[0] + "取 " + lv[0],
                     en + ": several rules match (" + pyRepr(distinct) + "); " + note[1] + ": " + lv[1]);
        }
      }
      store(state, rule.target, code, rule.section, rule.scale);
      var name = state.levelName(code, rule.scale);
      if (decided !== null) {
        state.explain(zh + " → " + name[0] + "（" + decided[0] + "）", en + " → " + name[1] + " (" + decided[1] + ")");
      } else {
        state.explain(zh + " → " + name[0], en + " → " + name[1]);
      }
    },
    matrix: function (rule, state) {
      var r = fmt(ev(state, rule.row)), c = fmt(ev(state, rule.column));
      var row = has(rule.table, r) ? rule.table[r] : {};
      var code = has(row, c) ? row[c] : rule.default;
      if (isNull(code) || !has(row, c)) {
        state.warn(rule.label[0] + "：" + r + " × " + c + " 不在表中", rule.label[1] + ": " + r + " × " + c + " is not in the table");
      }
      store(state, rule.target, isNull(code) ? null : code, null, rule.scale);
      var name = state.levelName(isNull(code) ? null : code, rule.scale);
      state.explain(rule.label[0] + "：" + r + " × " + c + " → " + name[0], rule.label[1] + ": " + r + " × " + c + " → " + name[1]);
    },
    relative_bands: function (rule, state) {
      var value = ev(state, rule.source);
      var group = ev(state, rule.peers);
      group = Array.isArray(group) ? group.slice() : [];
      var used = "同组";
      if (group.length < rule.min_peers && rule.fallback !== null) {
        var wide = ev(state, rule.fallback);
        group = Array.isArray(wide) ? wide.slice() : [];
        used = "全国";
      }
      if (isNull(value) || !group.length) {
        state.warn("缺少同组比较数据，无法按相对分档定级", "no peer data for relative bands");
        store(state, rule.target, null, null, rule.scale);
        return;
      }
      var better = group.filter(function (p) { return rule.lower_is_better ? p < value : p > value; }).length;
      var share = better / group.length;
      var code = rule.cuts[rule.cuts.length - 1][0];
      for (var i = 0; i < rule.cuts.length; i++) {
        if (share < rule.cuts[i][1] - 1e-12) { code = rule.cuts[i][0]; break; }
      }
      store(state, rule.target, code, null, rule.scale);
      var name = state.levelName(code, rule.scale);
      state.explain(fmt(value) + " 在" + used + " " + group.length + " 个机构中优于 " + fmt(pyRound((1 - share) * 100, 1)) +
                    "%（排名前 " + fmt(pyRound(share * 100, 1)) + "% 之后）→ " + name[0],
                    fmt(value) + ": " + fmt(pyRound(share * 100, 1)) + "% of " + group.length + " peers score better → " + name[1]);
    },
    warning: function (rule, state) {
      if (truthy(ev(state, rule.when))) { state.warn(rule.message[0], rule.message[1]); }
    }
  };

  // the points one answer gives (scoring.items._make_score)
  function points(item, value) {
    var w = item.weight;
    if (item.type === "multiple_choice") {
      var total = 0;
      value.forEach(function (v) {
        var option = item.options.find(function (o) { return eq(o.value, v); });
        total += option && option.score !== null ? option.score : 0;
      });
      return w !== 1 ? total * w : total;
    }
    if (item.options.length) {
      var found = findOption(item, value);
      var p = found ? found.score : null;
      return w === 1 ? p : (p || 0) * w;
    }
    if (item.type === "deduction") { return Math.max((item.points || 0) - value * (item.per || 0), 0) * w; }
    return w !== 1 ? value * w : value;
  }
  function scoreSections(def, state, prep) {
    var isRating = def.kind === "rating";
    var scores = [], maxima = [];
    def.doc.sections.forEach(function (section) {
      if (!section.scored) { return; }
      var sid = section.id, key = "section." + sid;
      var title = section.title;
      if (prep.direct[sid]) {
        var entered = state.values[key], top = sectionTop(section);
        var entry = { score: num(entered), max: num(top), label: title.zh, label_en: title.en, entered: true };
        state.addSection(sid, entry);
        state.values[key] = entry.score;
        scores.push(entry.score);
        maxima.push(entry.max);
        state.explain(title.zh + " " + fmt(entered) + "/" + fmt(top) + "（直接录入分项得分）",
                      title.en + " " + fmt(entered) + "/" + fmt(top) + " (entered as a section score)");
        return;
      }
      if (!section.items.length) { return; }
      var total = 0, max = section.max, naCount = 0;
      section.items.forEach(function (id) {
        var item = def.items[id];
        if (!item.scored) { return; }
        if (prep.na[id]) { max -= item.max; naCount += 1; return; }
        var value = has(state.values, id) ? state.values[id] : null;
        if (isNull(value)) { max -= item.max; return; }
        var got = points(item, value) || 0;
        total += got;
        if (isRating && got < item.max - 1e-9) {
          var severity = item.veto ? "critical" : (item.severity || def.doc.default_severity);
          state.findings.push({ item: id, section: sid, label: item.title.zh, label_en: item.title.en,
                                points_lost: num(item.max - got), severity: severity });
          if (item.veto && has(def.doc.veto_codes, item.veto)) {
            var label = def.doc.veto_codes[item.veto];
            state.vetoes.push({ code: item.veto, label: label.zh, label_en: label.en, item: id });
          }
        }
      });
      if (section.normalise_to !== null && max > 0) {
        total = total / max * section.normalise_to;
        max = section.normalise_to;
      }
      var out = { score: num(total), max: num(max), label: title.zh, label_en: title.en };
      if (naCount) { out.not_applicable = naCount; }
      state.addSection(sid, out);
      state.values[key] = out.score;
      scores.push(out.score);
      maxima.push(out.max);
      state.explain(title.zh + " " + fmt(total) + "/" + fmt(max), title.en + " " + fmt(total) + "/" + fmt(max));
    });
    return [scores, maxima];
  }
  function formTotal(def, state, scores, maxima) {
    var method = def.doc.total.method;
    if (method === "sum") {
      var sum = function (list) { return list.reduce(function (a, b) { return a + b; }, 0); };
      return [sum(scores), sum(maxima)];
    }
    if (method === "weighted_sum") {
      var total = 0, top = 0;
      def.doc.sections.forEach(function (section) {
        var sec = state.section(section.id);
        if (sec === null) { return; }
        total += sec.score * section.weight;
        top += sec.max * section.weight;
      });
      return [total, top];
    }
    return [null, 0];
  }
  function levelDict(def, code) {
    if (isNull(code)) { return null; }
    var name = levelName(def, code);
    return { code: code, label: { zh: name[0], en: name[1] } };
  }
  function serverParts(def, facts) {
    var parts = def.doc.needs_server.slice();
    if (isNull(facts) && def.doc.facts.rules.length) {
      var names = def.doc.facts.rules.join(", ");
      parts.push({ part: "facts", affects: "level", facts: def.doc.facts.rules.slice(),
                   reason: { zh: "需要服务器提供的事实数据：" + names, en: "needs facts the server holds: " + names } });
    }
    return parts;
  }
  // scoring.engine.score, also for incomplete answers (then `complete` is false and `problems`
  // counts what the review lists). Parts that need the server are null and listed in needs_server.
  function preview(def, answers, facts) {
    var prep = prepare(def, answers, facts, false);
    var state = new State(def, prep.values, prep.facts);
    if (def.doc.example) {
      state.warn("本方案含示例配置（分数线或检查项并非官方标准），须按本地规则替换",
                 "this scheme contains example configuration (not an official standard); replace it with the local rules");
    }
    prep.warnings.forEach(function (w) { state.warnings.push(w); });
    var sums = scoreSections(def, state, prep);
    var totals = formTotal(def, state, sums[0], sums[1]);
    var total = totals[0], maxTotal = totals[1];
    var norm = def.doc.total.normalise_to;
    if (norm !== null && !isNull(total) && truthy(maxTotal)) {
      total = total / maxTotal * norm;
      maxTotal = norm;
    }
    state.total = total;
    state.max_total = maxTotal;
    state.values.total = total;
    state.values.max_total = maxTotal;
    if (!isNull(total)) {
      state.values.percent = truthy(maxTotal) ? total / maxTotal * 100 : null;
      state.explain("总分 " + fmt(num(total)) + "/" + fmt(num(maxTotal)), "total " + fmt(num(total)) + "/" + fmt(num(maxTotal)));
    }
    def.doc.rules.forEach(function (rule) {
      if (rule.client) { RULES[rule.type](rule, state); }
    });
    if (state.vetoes.length) {
      var grade = state.veto_grade !== null ? state.veto_grade : 0;
      var gname = state.levelName(grade);
      state.explain("一票否决：" + state.vetoes.map(function (v) { return v.label; }).join("；") + " → " + gname[0],
                    "veto: " + state.vetoes.map(function (v) { return v.label_en || v.code; }).join("; ") + " → " + gname[1]);
      state.level = grade;
    }
    var needs = serverParts(def, facts);
    var levelKnown = !needs.some(function (p) { return p.affects === "level" || p.affects === "total"; });
    var totalKnown = !needs.some(function (p) { return p.affects === "total"; });
    var level = levelKnown ? levelDict(def, state.level) : null;
    return {
      complete: prep.errors.length === 0,
      problems: prep.errors.length,
      total: totalKnown && !isNull(total) ? num(total) : null,
      max_total: totalKnown && !isNull(total) ? num(maxTotal) : null,
      level: level ? level.code : null,
      level_label: level ? level.label : null,
      preliminary_level: levelKnown && !isNull(state.preliminary) ? state.preliminary : null,
      domains: state.order.map(function (sid) {
        var sec = state.sections[sid];
        var out = { id: sid, score: sec.score, max: sec.max, label: { zh: sec.label, en: sec.label_en } };
        if (sec.grade) { out.grade = sec.grade; }
        if (sec.not_applicable) { out.not_applicable = sec.not_applicable; }
        return out;
      }),
      adjustments: state.adjustments,
      vetoed: state.vetoes.length > 0,
      vetoes: state.vetoes,
      floors_failed: state.floors_failed,
      unqualified: state.unqualified,
      findings: state.findings,
      explanation: state.steps,
      warnings: state.warnings,
      policies_applied: state.policies_used,
      needs_server: needs
    };
  }

  root.YiyangEngine = {
    FORMAT: FORMAT, load: load, relevance: relevance, problems: problems, calculate: calculate, preview: preview,
    // one expression (an AST of Expression.to_json) with Python's semantics; `self` is the item
    // whose own value `.` stands for. form.js evaluates the page's skip logic with it.
    evaluate: evaluate, truthy: truthy,
    // the pieces, for tests and for a page that wants one of them
    internals: { evaluate: evaluate, truthy: truthy, fmt: fmt, num: num, pyRound: pyRound, pyRepr: pyRepr, prepare: prepare }
  };
})(typeof window !== "undefined" ? window : globalThis);
