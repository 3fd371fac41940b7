// A form shown again with what stopped it sends focus to the box that says so, so a screen reader
// reads it first and the keyboard starts from its links to each field (GOV.UK's error summary
// pattern). Without script the box is still the first thing in the page's content.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (!summary) {
    return;
  }
  summary.setAttribute("tabindex", "-1");
  summary.focus();
})();
