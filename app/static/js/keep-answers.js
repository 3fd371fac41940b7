// The choices ticked on a quiz or a review are kept in this browser tab (sessionStorage: the tab's
// own, dropped with it) until their result is shown. A form that could not be sent, because its learner
// was logged out meanwhile (in another tab, or by a password change elsewhere), then comes back
// ticked once they log in again and reopen it, instead of blank.
//
// Kept per account (the form's data-keep-answers is a keyed hash of the learner's id, so another
// account logged in to this tab later finds none of them) and per page, by the choices' values:
// choices are shuffled anew for each visit, so their places would tick the wrong ones. A result
// page names the submission it shows (data-answers-sent), and the ticks sent as it are let go.
// Logging out, or deleting the account, in this tab lets them go (static/js/log-out.js).
(function () {
  "use strict";
  var PREFIX = "kept-answers:";
  var store;
  try {
    store = window.sessionStorage;
    store.length; // a browser refusing storage throws here: then nothing is kept
  } catch (refused) {
    return;
  }

  function read(name) {
    try {
      return JSON.parse(store.getItem(name) || "null");
    } catch (broken) {
      return null;
    }
  }

  var result = document.querySelector("[data-answers-sent]");
  if (result) {
    var sentAs = result.getAttribute("data-answers-sent");
    for (var index = store.length - 1; index >= 0; index--) {
      var name = store.key(index);
      var entry = name && name.indexOf(PREFIX) === 0 ? read(name) : null;
      if (entry && entry.sentAs === sentAs) {
        store.removeItem(name);
      }
    }
  }

  var form = document.querySelector("form[data-keep-answers]");
  if (!form || !form.elements.submission_key) {
    return;
  }
  var key = PREFIX + form.getAttribute("data-keep-answers") + "|" + window.location.pathname;

  function ticked() {
    return Array.prototype.map.call(form.querySelectorAll("input:checked"), function (input) {
      return [input.name, input.value];
    });
  }

  function save() {
    var choices = ticked();
    try {
      if (choices.length) {
        store.setItem(key, JSON.stringify({ sentAs: form.elements.submission_key.value, ticked: choices }));
      } else {
        store.removeItem(key);
      }
    } catch (full) {
      // storage full or refused meanwhile: these ticks are not kept, and the page works as ever
    }
  }

  form.addEventListener("change", save);
  if (form.querySelector("input:checked")) {
    save(); // shown again with the learner's choices (and what was missing): those are the ones to keep
    return;
  }

  var kept = read(key);
  var wanted = {};
  (kept && Array.isArray(kept.ticked) ? kept.ticked : []).forEach(function (choice) {
    wanted[String(choice[0]) + "=" + String(choice[1])] = true;
  });
  var restored = 0;
  Array.prototype.forEach.call(form.querySelectorAll("input[type=radio], input[type=checkbox]"), function (input) {
    if (wanted[input.name + "=" + input.value] && !input.checked) {
      input.checked = true;
      restored += 1;
    }
  });
  if (!restored) {
    store.removeItem(key); // none of them is on this page any more (a quiz changed since, other questions due)
    return;
  }
  save(); // now to be sent with this page's submission key

  var note = document.createElement("div");
  // Not a live region: it is there as the page opens, read before the first question in the
  // form's order, where a screen reader meets it; a status inserted with its text is often not announced.
  note.className = "flash flash-info kept-answers";
  var words = document.createElement("p");
  words.textContent =
    "The answers you chose here before are ticked again: they were kept in this browser tab. " +
    "Check them, then send them.";
  var clear = document.createElement("button");
  clear.type = "button";
  clear.className = "button button-secondary button-small";
  clear.textContent = "Clear my answers";
  clear.addEventListener("click", function () {
    Array.prototype.forEach.call(form.querySelectorAll("input:checked"), function (input) {
      input.checked = false;
    });
    store.removeItem(key);
    var first = form.querySelector("input[type=radio], input[type=checkbox]");
    note.parentNode.removeChild(note);
    if (first) {
      first.focus();
    }
  });
  note.appendChild(words);
  note.appendChild(clear);
  form.insertBefore(note, form.firstChild);
})();
