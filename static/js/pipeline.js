// The pipeline board's drag-and-drop, and the move page's stage-dependent fields.
// Without JavaScript both still work: every card has a Move form, and the move page shows all its fields.
(function () {
  "use strict";

  var dragged = null;

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    if (headers) {
      try {
        var token = JSON.parse(headers)["X-CSRFToken"];
        if (token) return token;
      } catch (error) { /* fall back to the cookie */ }
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function say(message) {
    var region = document.getElementById("board-alert");
    if (!region) return;
    region.textContent = message;
    region.classList.toggle("is-shown", Boolean(message));
  }

  function targetsOf(card) {
    return (card.getAttribute("data-targets") || "").split(" ").filter(Boolean);
  }

  function dropZone(element) {
    var column = element && element.closest ? element.closest(".pipeline-column") : null;
    return column ? column.querySelector(".pipeline-cards") : null;
  }

  function clearHighlights() {
    document.querySelectorAll(".pipeline-cards.is-drop-target, .pipeline-cards.is-drop-refused").forEach(function (zone) {
      zone.classList.remove("is-drop-target", "is-drop-refused");
    });
  }

  function replaceBoard(html) {
    var board = document.getElementById("board");
    board.innerHTML = html;
    if (window.htmx) window.htmx.process(board);
  }

  function refreshBoard() {
    return fetch(window.location.pathname + window.location.search, {
      headers: { "HX-Request": "true", "HX-Target": "board" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.ok ? response.text().then(replaceBoard) : null;
    });
  }

  function move(card, stage) {
    var body = new FormData();
    body.append("stage", stage);
    body.append("version", card.getAttribute("data-version"));
    var board = document.getElementById("board");
    board.setAttribute("aria-busy", "true");
    card.classList.add("is-moving");
    // The board's filters travel in the query string, so the answer is the board as the user filtered it.
    return fetch(card.getAttribute("data-move-url") + window.location.search, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", "HX-Target": "board" },
    })
      .then(function (response) {
        return response.text().then(function (text) {
          if (response.ok) {
            say("");
            replaceBoard(text);
            return;
          }
          var message = response.headers.get("Content-Type").indexOf("text/plain") === 0
            ? text
            : board.getAttribute("data-move-failed");
          say(message);
          return refreshBoard();
        });
      })
      .catch(function () {
        say(board.getAttribute("data-move-failed"));
        card.classList.remove("is-moving");
      })
      .finally(function () {
        board.removeAttribute("aria-busy");
      });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card[draggable='true']");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    document.querySelectorAll(".pipeline-column").forEach(function (column) {
      var stage = column.getAttribute("data-stage");
      if (stage !== card.getAttribute("data-stage") && targetsOf(card).indexOf(stage) < 0) {
        column.querySelector(".pipeline-cards").classList.add("is-drop-refused");
      }
    });
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    clearHighlights();
  });

  document.addEventListener("dragover", function (event) {
    var zone = dropZone(event.target);
    if (!dragged || !zone) return;
    if (targetsOf(dragged).indexOf(zone.getAttribute("data-drop-stage")) < 0) return;
    event.preventDefault(); // this column accepts the card
    event.dataTransfer.dropEffect = "move";
    zone.classList.add("is-drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    var zone = dropZone(event.target);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("is-drop-target");
  });

  document.addEventListener("drop", function (event) {
    var zone = dropZone(event.target);
    if (!dragged || !zone) return;
    var stage = zone.getAttribute("data-drop-stage");
    if (targetsOf(dragged).indexOf(stage) < 0) return;
    event.preventDefault();
    var card = dragged;
    clearHighlights();
    zone.prepend(card);
    move(card, stage);
  });

  // The move page: show the fields the chosen stage needs (all of them stay in the page without JavaScript).
  function showSectionsFor(select) {
    document.querySelectorAll(".move-section[data-for-stage]").forEach(function (section) {
      section.hidden = section.getAttribute("data-for-stage") !== select.value;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches(".move-form select[name='stage']")) showSectionsFor(event.target);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector(".move-form select[name='stage']");
    if (select) showSectionsFor(select);
  });
})();
