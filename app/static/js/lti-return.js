// The deep-linking answer (lti/deep_link_return.html) goes back to the LMS by itself; without
// script, its "Send to the LMS" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("lti-return");
  if (form) {
    form.submit();
  }
})();
