// 颐养 Yiyang — the definition's expressions (skip logic, constraints) in the browser: the JSON
// AST that scoring/expressions.py exports (`Definition.skip_logic()`), evaluated with the same
// rules (null propagates, unknown names are null, no eval). Used by form.js and offline-form.js.
(function () {
  "use strict";
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
  function evaluate(node, values, selfId) {
    if (node === null || typeof node !== "object") { return node; }
    if (!Array.isArray(node)) {
      if (Object.prototype.hasOwnProperty.call(node, "ref")) {
        var v = values[node.ref];
        return v === undefined ? null : v;
      }
      if (node.self && selfId) {
        var own = values[selfId];
        return own === undefined ? null : own;
      }
      return null;
    }
    var op = node[0];
    var rest = node.slice(1);
    var ev = function (n) { return evaluate(n, values, selfId); };
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
  window.YiyangExpressions = { evaluate: evaluate, truthy: truthy };
})();
