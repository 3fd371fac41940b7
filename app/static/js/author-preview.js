// The lesson editor's live preview (author/lesson_edit.html).
// Progressive enhancement: without script, the "Preview" button posts the form and the page
// comes back with the preview. With it, a short pause in typing posts the same form (its CSRF
// token included) to the preview address in the form's data-live-preview, and the server's
// HTML, rendered and sanitised exactly as for learners, replaces the preview beside the form.
// A status line says so to screen readers without moving focus.
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-preview]");
  var section = document.getElementById("preview-section");
  var frame = document.getElementById("lesson-preview");
  var heading = document.getElementById("preview-heading");
  var status = document.getElementById("preview-status");
  if (!form || !section || !frame || !heading || !window.fetch || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-live-preview");
  var PAUSE_MS = 400;
  var timer = null;
  var latest = 0; // a slow answer to an earlier request must not replace a newer one
  var MESSAGES = {
    400: "Preview not updated: save your text, then reload the page to preview again.",
    413: "Preview not updated: the text is too long to preview.",
    429: "Preview not updated: too many previews, it will catch up when you pause.",
  };

  function say(message) {
    if (status) {
      status.textContent = message;
    }
  }

  function update(announce) {
    var sent = ++latest;
    window
      .fetch(url, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      })
      .then(
        function (response) {
          if (response.redirected) {
            // Sent to the login page: the session has ended.
            return { problem: "Preview not updated: you are logged out. Copy your text, then log in again." };
          }
          if (!response.ok) {
            return { problem: MESSAGES[response.status] || "Preview not updated: something went wrong." };
          }
          return response.text().then(function (html) {
            return { html: html };
          });
        },
        function () {
          return { problem: "Preview not updated: the site could not be reached." };
        }
      )
      .then(function (answer) {
        if (sent !== latest) {
          return;
        }
        if (answer.problem) {
          say(answer.problem);
          return;
        }
        frame.innerHTML = answer.html;
        heading.textContent = heading.getAttribute("data-live-text");
        section.hidden = false;
        if (announce) {
          say("Preview updated.");
        }
      });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      update(true);
    }, PAUSE_MS);
  });
  // The preview column is there from the start, of the form as it stands, saved or not.
  if (section.hidden) {
    update(false);
  }
})();
