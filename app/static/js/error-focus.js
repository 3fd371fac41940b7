// A form shown again with what stopped it sends focus to the box that says so, so a screen reader
// reads it first and the keyboard starts from its links to each field (GOV.UK's error summary
// pattern). Without script the box is still the first thing in the page's content.
//
// A link in the box focuses its field with the field's question or label in view: followed as a
// plain link, the browser scrolled the field itself to the top of the screen, so on a phone the
// question and its error message sat above it, out of sight (a review at 375px).
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (!summary) {
    return;
  }
  summary.setAttribute("tabindex", "-1");
  summary.focus();

  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (field && field.matches("fieldset")) {
      // A group of choices (radios, boxes) is named by its fieldset, which takes no focus: its first choice does.
      field = field.querySelector("input, select, textarea") || field;
    }
    if (!field || field.matches("fieldset")) {
      return;
    }
    var group = field.closest("fieldset");
    var heading = group ? group.querySelector("legend") || group : document.querySelector("label[for='" + field.id + "']");
    if (!heading) {
      return;
    }
    event.preventDefault();
    heading.scrollIntoView({ block: "start" });
    var box = field.getBoundingClientRect();
    if (box.bottom > window.innerHeight) {
      field.scrollIntoView({ block: "end" }); // a question too tall for the screen: the field matters most
    }
    field.focus({ preventScroll: true });
  });
})();
