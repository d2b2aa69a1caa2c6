// The API tokens page: copy a new key to the clipboard (a file, as the Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  function copied(button) {
    var label = button.querySelector("span");
    if (!label) return;
    var original = label.textContent;
    label.textContent = button.getAttribute("data-copied-label") || original;
    window.setTimeout(function () { label.textContent = original; }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy-target"));
    if (!field) return;
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { copied(button); });
    } else if (document.execCommand("copy")) {
      copied(button);
    }
  });
})();
