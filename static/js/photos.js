// 颐养 Yiyang — photos of assessment items on the fill page. Choosing a picture (the tablet's
// camera opens: capture=environment) uploads it at once through the API with an Idempotency-Key,
// so a resend after a dropped connection makes one photo, not two; the thumbnail appears without
// leaving the page. Offline, the photo waits in this page and goes when the network returns.
// Without script the item's "上传" button sends the same file to the page route.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[data-photo-upload]");
  if (!inputs.length) { return; }
  var M = {};
  try { M = JSON.parse((document.getElementById("photo-messages") || {}).textContent || "{}"); } catch (e) { M = {}; }
  var waiting = [];  // uploads that met no network: {input, file, key}

  function csrf() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return "photo-" + window.crypto.randomUUID(); }
    return "photo-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  function box(input) { return input.closest("[data-photos-for]"); }
  function say(input, text, kind) {
    var node = box(input).querySelector("[data-photo-status]");
    if (!node) { return; }
    node.textContent = text;
    node.className = "photo-status" + (kind ? " is-" + kind : "");
  }
  function show(input, photo) {
    var list = box(input).querySelector("[data-photo-list]");
    var item = document.createElement("li");
    var link = document.createElement("a");
    var img = document.createElement("img");
    link.href = photo.url;
    img.src = photo.url;
    img.alt = (M.alt || "{item}").split("{item}").join(input.getAttribute("data-photo-title") || "") + " " +
      (list.children.length + 1);
    link.appendChild(img);
    item.appendChild(link);
    list.appendChild(item);
  }
  function send(job) {
    var data = new FormData();
    data.append("photo", job.file, job.file.name || "photo.jpg");
    say(job.input, M.uploading || "…");
    return fetch(job.input.getAttribute("data-photo-upload"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf(), "Idempotency-Key": job.key }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.status === 201) {
          show(job.input, body);
          say(job.input, M.uploaded || "", "saved");
        } else {
          var detail = (body.errors || []).map(function (e) { return e.message; }).join("；") || body.message || response.status;
          say(job.input, (M.failed || "") + detail, "error");
        }
      });
    }, function () {
      waiting.push(job);  // the same key when it is sent again: the server applies it once
      say(job.input, M.offline || "", "error");
    });
  }
  Array.prototype.forEach.call(inputs, function (input) {
    var fallback = box(input).querySelector("[data-photo-fallback]");
    if (fallback) { fallback.hidden = true; }  // the upload starts on choosing the picture
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      var chain = Promise.resolve();
      files.forEach(function (file) {
        chain = chain.then(function () { return send({ input: input, file: file, key: newKey() }); });
      });
      chain.then(function () { input.value = ""; });
    });
  });
  window.addEventListener("online", function () {
    var jobs = waiting;
    waiting = [];
    jobs.reduce(function (chain, job) { return chain.then(function () { return send(job); }); }, Promise.resolve());
  });
})();
