// The question editor's right-answer control (author/question_edit.html).
// Progressive enhancement: the page comes with the control its question's kind needs (a radio
// button per choice for one right answer, a checkbox per choice for several) and the other one
// hidden and disabled. When the kind is changed here, this swaps them at once, carrying the
// ticks across; without script the server shows the right control after "Preview" or a save,
// and checks the answer against the kind's rules either way.
// No tick is ever dropped: radio buttons hold one, so while several rows are ticked the
// checkboxes stay, with a hint to leave one, and saving refuses the question until then.
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

  // Show the controls of ``type``, and the hint for them and for the kind, which wants ``wanted``.
  function show(type, wanted) {
    var hint = type === wanted ? type : "one-of-several";
    ["radio", "checkbox"].forEach(function (each) {
      var shown = each === type;
      choices.querySelectorAll('[data-correct="' + each + '"]').forEach(function (element) {
        element.hidden = !shown;
      });
      controls(each).forEach(function (input) {
        input.disabled = !shown;
      });
    });
    choices.querySelectorAll("[data-for]").forEach(function (element) {
      element.hidden = element.getAttribute("data-for") !== hint;
    });
  }

  function current() {
    return controls("radio")[0] && !controls("radio")[0].disabled ? "radio" : "checkbox";
  }

  kind.addEventListener("change", function () {
    var wanted = inputTypes[kind.value];
    if (!wanted) {
      return;
    }
    var from = current();
    var ticked = controls(from).map(function (input) {
      return input.checked;
    });
    var several = ticked.filter(Boolean).length > 1;
    var type = wanted === "radio" && several ? "checkbox" : wanted;
    if (type !== from) {
      controls(type).forEach(function (input, row) {
        input.checked = ticked[row];
      });
    }
    show(type, wanted);
  });
})();
