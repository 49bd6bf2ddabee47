// 颐养 Yiyang — the organisation picker's search box (templates/_org_picker.html, accounts/picker.py).
// Where a field may take more organisations than a <select> can reasonably hold (a province's few
// thousand), the page draws a text box and a hidden input carrying the chosen id under the field's
// name. Typing searches GET /api/v1/organisations?q=…&limit=20 (same origin, the session cookie;
// a GET needs no CSRF token) with the field's scope (managed, active, kind) and lists the hits with
// the names above them; up/down, Enter and Escape or a tap choose one. Submitting sends the id; a
// text that was typed but not chosen is sent as `<name>_text` and the server finds it by name or id
// (as it does without JavaScript). The words come from the page (data-org-picker-messages).
(function () {
  "use strict";
  if (!window.fetch || !document.querySelector) { return; }
  var LIMIT = 20;
  var WAIT_MS = 250;
  var M = {};
  try { M = JSON.parse((document.querySelector("[data-org-picker-messages]") || {}).textContent || "{}"); } catch (e) { M = {}; }
  function say(key, values) {
    var text = M[key] || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }

  function setUp(root) {
    root.setAttribute("data-ready", "1");
    var input = root.querySelector("[role=combobox]");
    var hidden = root.querySelector("[data-org-picker-id]");
    var list = root.querySelector("[role=listbox]");
    var status = root.querySelector("[data-org-picker-status]");
    if (!input || !hidden || !list) { return; }
    var textName = input.getAttribute("name");
    var idName = hidden.getAttribute("name");
    var picked = { id: root.getAttribute("data-picked-id") || "", name: root.getAttribute("data-picked-name") || "" };
    var items = [];
    var active = -1;
    var timer = null;
    var asked = 0;  // the answer to an older question is dropped

    function open(isOpen) {
      list.hidden = !isOpen;
      input.setAttribute("aria-expanded", isOpen ? "true" : "false");
      if (!isOpen) { input.removeAttribute("aria-activedescendant"); active = -1; }
    }
    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) { return; }
      active = (index + options.length) % options.length;
      for (var i = 0; i < options.length; i++) { options[i].setAttribute("aria-selected", i === active ? "true" : "false"); }
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }
    function choose(index) {
      var item = items[index];
      if (!item) { return; }
      picked = { id: String(item.id), name: item.name };
      hidden.value = picked.id;
      input.value = item.name;
      open(false);
      if (status) { status.textContent = say("picked", { name: (item.trail || []).concat([item.name]).join(" / ") }); }
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function show(found, more, q) {
      items = found;
      list.textContent = "";
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = input.id + "-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.className = "org-picker-option";
        var name = document.createElement("span");
        name.textContent = item.name;
        li.appendChild(name);
        if (item.trail && item.trail.length) {
          var above = document.createElement("span");
          above.className = "muted";
          above.textContent = item.trail.join(" / ");
          li.appendChild(above);
        }
        // mousedown keeps the focus in the box (a blur would close the list before the click).
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { choose(i); });
        list.appendChild(li);
      });
      open(found.length > 0);
      if (status) {
        status.textContent = !found.length ? say("none", { q: q })
          : say("found", { n: found.length }) + (more ? " " + say("more", { n: found.length }) : "");
      }
    }
    function search() {
      var q = input.value.trim();
      if (!q) { show([], false, q); if (status) { status.textContent = ""; } return; }
      var query = root.getAttribute("data-query");
      var url = root.getAttribute("data-api") + "?q=" + encodeURIComponent(q) + "&limit=" + LIMIT + (query ? "&" + query : "");
      var mine = ++asked;
      if (status) { status.textContent = say("searching"); }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, redirect: "manual" }).then(function (r) {
        if (r.status === 401 || r.type === "opaqueredirect") { throw { login: true }; }
        if (!r.ok) { throw { status: r.status }; }
        return r.json();
      }).then(function (body) {
        if (mine === asked) { show(body.items || [], !!body.next_cursor, q); }
      }, function (problem) {
        if (mine !== asked) { return; }
        show([], false, q);
        if (status) { status.textContent = say(problem && problem.login ? "login" : "failed"); }
      });
    }

    input.addEventListener("input", function () {
      // Only a chosen organisation's own name stands for its id; anything else is sent as text.
      hidden.value = input.value.trim() === picked.name && picked.id ? picked.id : "";
      clearTimeout(timer);
      timer = setTimeout(search, WAIT_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) { if (items.length) { open(true); } else { search(); return; } }
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0) { event.preventDefault(); choose(active); }
      } else if (event.key === "Escape") {
        if (!list.hidden) { event.preventDefault(); open(false); }
      }
    });
    input.addEventListener("blur", function () { open(false); });
    var form = input.form;
    if (form) {
      form.addEventListener("submit", function () {
        var text = input.value.trim();
        hidden.setAttribute("name", idName);
        if (hidden.value && text === picked.name) {
          input.removeAttribute("name");  // the id alone: a clean address, nothing to look up
        } else if (!text && root.getAttribute("data-blank") === "true") {
          input.removeAttribute("name");
          hidden.removeAttribute("name");  // none chosen: the filter is off
        } else {
          input.setAttribute("name", textName);
        }
      });
      // Back from the next page (bfcache) the names must be there again.
      window.addEventListener("pageshow", function () { input.setAttribute("name", textName); hidden.setAttribute("name", idName); });
    }
  }

  var roots = document.querySelectorAll("[data-org-picker]:not([data-ready])");
  for (var i = 0; i < roots.length; i++) { setUp(roots[i]); }
}());
