// Logging out in this tab (or everywhere, from /me/), or deleting the account, lets go of what the
// tab keeps of the account: a quiz's or review's ticks, kept until they are sent
// (static/js/keep-answers.js), as the next person at this computer might look. Not done by the
// log-out's response (Clear-Site-Data): that empties every tab of the site, and a learner logged
// out in one tab would lose the ticks of a quiz waiting in another, which is what keeping them is for.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    if (!event.target.matches("form[data-log-out]")) {
      return;
    }
    try {
      for (var index = window.sessionStorage.length - 1; index >= 0; index--) {
        var name = window.sessionStorage.key(index);
        if (name && name.indexOf("kept-answers:") === 0) {
          window.sessionStorage.removeItem(name);
        }
      }
    } catch (refused) {
      // storage refused: nothing was kept
    }
  });
})();
