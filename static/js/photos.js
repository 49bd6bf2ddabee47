// 颐养 Yiyang — photos of assessment items on the fill page. Choosing a picture (the tablet's
// camera opens: capture=environment) uploads it at once through the API with an Idempotency-Key,
// so a resend after a dropped connection makes one photo, not two; the thumbnail appears without
// leaving the page. When the record is kept on this device ("带到离线"), or the upload meets no
// network, the photo goes to the outbox (offline.js) instead: its multipart body is made once and
// stored as a Blob in IndexedDB with its content type, so it survives a reload and every retry is
// the same request under the same key (the server stores it once). Without script the item's
// "上传" button sends the same file to the page route.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[data-photo-upload]");
  if (!inputs.length) { return; }
  var O = window.YiyangOffline;
  var M = {};
  try { M = JSON.parse((document.getElementById("photo-messages") || {}).textContent || "{}"); } catch (e) { M = {}; }

  function csrf() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return "photo-" + window.crypto.randomUUID(); }
    return "photo-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  function recordKey(url) {
    var m = /\/assessments\/(\d+)\//.exec(url || "");
    return m ? "assessment:" + m[1] : null;
  }
  function box(input) { return input.closest("[data-photos-for]"); }
  function inputFor(url) {
    return Array.prototype.filter.call(inputs, function (i) { return i.getAttribute("data-photo-upload") === url; })[0] || null;
  }
  function say(input, text, kind) {
    var node = box(input).querySelector("[data-photo-status]");
    if (!node) { return; }
    node.textContent = text;
    node.className = "photo-status" + (kind ? " is-" + kind : "");
  }
  function show(input, url, local) {
    var list = box(input).querySelector("[data-photo-list]");
    var item = document.createElement("li");
    var link = document.createElement("a");
    var img = document.createElement("img");
    link.href = url;
    img.src = url;
    img.alt = (M.alt || "{item}").split("{item}").join(input.getAttribute("data-photo-title") || "") + " " +
      (list.children.length + 1);
    if (local) { img.setAttribute("data-local-photo", local); }
    link.appendChild(img);
    item.appendChild(link);
    list.appendChild(item);
  }
  function formBody(file) {
    var data = new FormData();
    data.append("photo", file, file.name || "photo.jpg");
    return data;
  }
  function queue(input, file) {
    // Made once: the bytes and the boundary in the content type are those of every retry.
    var url = input.getAttribute("data-photo-upload");
    var response = new Response(formBody(file));
    var type = response.headers.get("Content-Type");
    var local = "p" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    return response.blob().then(function (body) {
      return O.enqueuePhoto(recordKey(url), url, body, local, type);
    }).then(function () {
      show(input, URL.createObjectURL(file), local);
      say(input, M.queued || "", "saved");
    });
  }
  function send(input, file) {
    say(input, M.uploading || "…");
    return fetch(input.getAttribute("data-photo-upload"), {
      method: "POST", body: formBody(file), credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf(), "Idempotency-Key": newKey() }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.status === 201) {
          show(input, body.url);
          say(input, M.uploaded || "", "saved");
        } else {
          var detail = (body.errors || []).map(function (e) { return e.message; }).join("；") || body.message || response.status;
          say(input, (M.failed || "") + detail, "error");
        }
      });
    }, function () {
      // No network: this request never reached the server; the outbox sends it once, later.
      if (O && window.indexedDB) { return queue(input, file); }
      say(input, M.offline || "", "error");
      return null;
    });
  }
  function kept(input) {
    if (!O || !window.indexedDB) { return Promise.resolve(false); }
    return O.record(recordKey(input.getAttribute("data-photo-upload"))).then(function (rec) { return !!rec; }, function () { return false; });
  }
  Array.prototype.forEach.call(inputs, function (input) {
    var fallback = box(input).querySelector("[data-photo-fallback]");
    if (fallback) { fallback.hidden = true; }  // the upload starts on choosing the picture
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      kept(input).then(function (offline) {
        return files.reduce(function (chain, file) {
          return chain.then(function () { return offline ? queue(input, file) : send(input, file); });
        }, Promise.resolve());
      }).then(function () { input.value = ""; });
    });
  });
  if (!O || !window.indexedDB) { return; }
  // Photos still in the outbox (after a reload, or the tablet reopened) are shown as waiting.
  O.entries().then(function (list) {
    list.forEach(function (e) {
      var input = e.type === "photo" ? inputFor(e.url) : null;
      if (input) { show(input, URL.createObjectURL(e.blob), e.local); say(input, M.queued || "", "saved"); }
    });
  }).catch(function () { return null; });
  window.addEventListener("yiyang:photo", function (e) {
    var img = document.querySelector("[data-photo-list] img[data-local-photo='" + e.detail.local + "']");
    if (!img) { return; }
    img.src = e.detail.photo.url;
    img.parentNode.href = e.detail.photo.url;
    img.removeAttribute("data-local-photo");
    img.setAttribute("data-photo-sent", "");
    var input = inputFor(e.detail.url);
    if (input) { say(input, M.uploaded || "", "saved"); }
  });
  window.addEventListener("yiyang:refused", function (e) {
    var input = e.detail.type === "photo" ? inputFor(e.detail.url) : null;
    if (!input) { return; }
    var img = document.querySelector("[data-photo-list] img[data-local-photo='" + e.detail.local + "']");
    if (img) { img.closest("li").remove(); }
    var body = e.detail.data || {};
    var detail = (body.errors || []).map(function (x) { return x.message; }).join("；") || body.message || "";
    say(input, (M.failed || "") + detail, "error");
  });
})();
