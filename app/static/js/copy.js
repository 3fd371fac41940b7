// Copy buttons for the invitation code and link (counsel/invitations.html) and for each course
// image's Markdown (author/media.html).
// Progressive enhancement: the code and link are plain text anyone can select; the buttons
// stay hidden unless this script runs and the browser offers the clipboard.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) {
    return;
  }
  var status = document.getElementById("copy-status");
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) {
      return;
    }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(
        function () {
          button.textContent = "Copied";
          if (status) {
            status.textContent = label.replace("Copy", "Copied the") + ".";
          }
          window.setTimeout(function () {
            button.textContent = label;
          }, 2000);
        },
        function () {
          // Refused (permissions): select the text instead, so copying by hand is one keystroke.
          var range = document.createRange();
          range.selectNodeContents(target);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          if (status) {
            status.textContent = "Could not copy: the text is selected, press Ctrl+C or Cmd+C.";
          }
        }
      );
    });
  });
})();
