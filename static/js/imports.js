// 颐养 Yiyang — the import pages: show that a long check or import is working, and follow an
// import job's progress until it ends (then reload to show its report).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.classList) { return; }
    if (form.classList.contains("import-upload") || form.classList.contains("import-commit")) {
      var working = form.querySelector(".import-working");
      if (working) { working.hidden = false; }
    }
  });
  var box = document.querySelector(".import-job");
  if (!box) { return; }
  var bar = box.querySelector(".import-progress");
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (job) {
        if (bar && typeof job.progress === "number") { bar.value = job.progress; }
        if (job.status === "finished" || job.status === "failed") { window.location.reload(); return; }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
