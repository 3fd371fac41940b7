// The question editor's right-answer control (author/question_edit.html).
// Progressive enhancement: the page comes with the control its question's kind needs (a radio
// button per choice for one right answer, a checkbox per choice for several) and the other one
// hidden and disabled. When the kind is changed here, this swaps them at once, carrying the
// ticks across; without script the server shows the right control after "Preview" or a save,
// and checks the answer against the kind's rules either way.
(function () {
  "use strict";
  var kind = document.getElementById("kind");
  var choices = document.getElementById("choices");
  if (!kind || !choices) {
    return;
  }
  var inputTypes = JSON.parse(choices.getAttribute("data-input-types") || "{}");

  function controls(type) {
    return Array.prototype.map.call(choices.querySelectorAll('[data-correct="' + type + '"]'), function (box) {
      return box.querySelector("input");
    });
  }

  function show(type) {
    ["radio", "checkbox"].forEach(function (each) {
      var shown = each === type;
      choices.querySelectorAll('[data-correct="' + each + '"], [data-for="' + each + '"]').forEach(function (element) {
        element.hidden = !shown;
      });
      controls(each).forEach(function (input) {
        input.disabled = !shown;
      });
    });
  }

  function current() {
    return controls("radio")[0] && !controls("radio")[0].disabled ? "radio" : "checkbox";
  }

  kind.addEventListener("change", function () {
    var type = inputTypes[kind.value];
    var from = current();
    if (!type || type === from) {
      return;
    }
    var ticked = controls(from).map(function (input) {
      return input.checked;
    });
    var seen = false;
    controls(type).forEach(function (input, row) {
      // Radio buttons hold one answer: the first ticked row keeps it.
      input.checked = ticked[row] && !(type === "radio" && seen);
      seen = seen || input.checked;
    });
    show(type);
  });
})();
