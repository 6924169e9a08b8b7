/* citycase designer pages: a long request shows that it runs; a migration shows its progress. */
(function () {
  "use strict";
  document.querySelectorAll("form.busy-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector('button[type="submit"]');
      var busy = form.querySelector(".busy");
      if (button) button.disabled = true;
      if (busy) busy.hidden = false;
    });
  });
})();
