// The proposal editor's one behaviour beyond htmx: a refused change (400: a form error, 409: someone else changed
// the proposal first) still replaces the lines, so the user sees the message and the current lines and totals.
// Without JavaScript every form posts normally and the whole page comes back.
(function () {
  "use strict";

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if ((status === 400 || status === 409) && target && target.closest && target.closest("[data-editor]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // After an inline edit opens, put the cursor in its first field; after a line is added, back in "Description".
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "proposal-lines") return;
    var field = target.querySelector("[data-testid='line-edit-form'] input:not([type='hidden'])");
    if (!field && event.detail.requestConfig && event.detail.requestConfig.verb === "post") {
      var added = event.detail.requestConfig.elt;
      if (added && added.getAttribute("data-testid") === "line-add-form") {
        field = target.querySelector("[data-testid='line-add-form'] input:not([type='hidden'])");
      }
    }
    if (field) field.focus();
  });
})();
