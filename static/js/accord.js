// Accord's few behaviours beyond htmx. Loaded as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // The header search's result list closes on Escape or a click elsewhere, and reopens on focus.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var dropdown = document.getElementById("search-dropdown");
      if (dropdown) dropdown.replaceChildren();
    }
  });
  document.addEventListener("click", function (event) {
    var form = document.querySelector(".header-search");
    var dropdown = document.getElementById("search-dropdown");
    if (form && dropdown && !form.contains(event.target)) dropdown.replaceChildren();
  });
  document.addEventListener("focusin", function (event) {
    if (event.target && event.target.id === "header-search" && event.target.value.trim().length > 1) {
      window.htmx && window.htmx.trigger(event.target, "search");
    }
  });
})();
