// 颐养 Yiyang — shared page behaviour. No inline scripts (the CSP forbids them).
(function () {
  "use strict";
  // Ask before an irreversible step: <form data-confirm="确定要锁定吗？">
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // A double tap must not send a form twice.
    if (form.dataset && form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    if (form.dataset) { form.dataset.submitted = "1"; }
    window.setTimeout(function () { if (form.dataset) { form.dataset.submitted = ""; } }, 8000);
  }, true);

  // A page that answers with problems: focus moves to their summary, which links to each field.
  var summary = document.querySelector(".problems[tabindex='-1']");
  if (summary && !window.location.hash) { summary.focus(); }
})();
