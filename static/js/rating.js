// 颐养 rating: checklist autosave. Every change is saved in the background; a copy waits in
// this tablet's storage until the server confirms it, so nothing is lost offline. A conflict
// (someone else saved first) is reported, never overwritten.
(function () {
  "use strict";
  var form = document.getElementById("checklist");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave");
  var key = form.getAttribute("data-key");
  var status = form.querySelector("[data-autosave-status]");
  var versionField = form.querySelector("input[name=version]");
  var timer = null;
  var saving = false;
  var pending = false;
  var conflicted = false;

  function say(text, kind) {
    if (!status) { return; }
    status.textContent = text;
    status.className = "autosave-status" + (kind ? " is-" + kind : "");
  }

  function fields() {
    var data = new FormData(form);
    data.delete("then");
    return data;
  }

  function remember(data) {
    try {
      var copy = {};
      data.forEach(function (value, name) {
        if (typeof value !== "string") { return; }
        (copy[name] = copy[name] || []).push(value);
      });
      window.localStorage.setItem(key, JSON.stringify({ version: versionField.value, fields: copy }));
    } catch (e) { /* storage full or disabled: the server copy is still tried */ }
  }

  function forget() {
    try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
  }

  function save() {
    if (conflicted) { return Promise.resolve(); }
    if (saving) { pending = true; return Promise.resolve(); }
    saving = true;
    var data = fields();
    remember(data);
    say("正在保存…");
    var token = form.querySelector("input[name=csrf_token]");
    return fetch(url, {
      method: "POST", body: new URLSearchParams(data), credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" }
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (res) {
      if (res.status === 200) {
        versionField.value = res.body.version;
        forget();
        var n = (res.body.problems || []).length;
        say(n ? "已保存（还有 " + n + " 项待完善，提交时会逐项提示）" : "已保存", "ok");
      } else if (res.status === 409) {
        conflicted = true;
        say("他人已修改这份检查表（版本 " + res.body.version + "），您的这次修改未保存。请刷新页面查看最新内容后再修改。", "error");
      } else {
        say(res.body.message || "保存失败，已暂存在本机，稍后自动重试。", "error");
      }
    }).catch(function () {
      say("网络不可用：修改已暂存在本机，恢复联网后自动保存。", "error");
      window.setTimeout(schedule, 15000);
    }).then(function () {
      saving = false;
      if (pending) { pending = false; schedule(); }
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 800);
  }

  // A copy left from an earlier visit (offline, or the tab closed) is put back and saved.
  try {
    var stored = JSON.parse(window.localStorage.getItem(key) || "null");
    if (stored && stored.version === versionField.value) {
      Object.keys(stored.fields).forEach(function (name) {
        if (name === "csrf_token" || name === "version") { return; }
        var values = stored.fields[name];
        form.querySelectorAll("[name='" + name.replace(/'/g, "\\'") + "']").forEach(function (el) {
          if (el.type === "radio" || el.type === "checkbox") { el.checked = values.indexOf(el.value) !== -1; }
          else if (el.type !== "file") { el.value = values[0]; }
        });
      });
      say("已恢复本机暂存的修改，正在保存…");
      schedule();
    } else if (stored) {
      forget();
    }
  } catch (e) { forget(); }

  form.addEventListener("input", function (event) {
    if (event.target.type === "file") { return; }
    schedule();
  });
  form.addEventListener("change", function (event) {
    if (event.target.type === "file") { return; }
    schedule();
  });

  // Photos: choosing a picture saves the checklist first, then uploads it.
  document.querySelectorAll("input[data-autoupload]").forEach(function (input) {
    input.addEventListener("change", function () {
      var target = input.form;
      if (!target || !input.files.length) { return; }
      window.clearTimeout(timer);
      save().then(function () { target.submit(); });
    });
  });

  // The plain submit still works without JavaScript; with it, the latest version is sent.
  form.addEventListener("submit", function () { window.clearTimeout(timer); forget(); });
})();
