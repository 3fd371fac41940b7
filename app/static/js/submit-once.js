// A form that must be sent once (data-submit-once, the API token form): a second click before the
// first answer arrives is not sent. The server makes one token per form either way, but the page
// the browser shows is the answer to the last request sent, so without this a double-click showed
// "made already" and the token, whose text is shown only once, was never seen.
(function () {
  "use strict";
  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
    });
  });
  // A page shown again from the back-forward cache is a form not sent yet.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
        delete form.dataset.sent;
      });
    }
  });
})();
