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

/* The migration runs batch after batch (each case in its own transaction on the server); the
   page shows how far it got, what could not move and why, and can go on after an interruption. */
(function () {
  "use strict";
  var form = document.querySelector("form.migrate-form");
  if (!form) return;
  var button = form.querySelector('button[type="submit"]');
  var after = form.querySelector('input[name="after"]');
  var total = Number(form.querySelector('input[name="total"]').value);
  var bar = form.querySelector("progress");
  var status = form.querySelector(".status");
  var log = form.querySelector(".migration-log");
  var moved = 0, failed = 0;
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_m, key) { return String(values[key]); });
  }
  function note(text, cls) {
    var li = document.createElement("li");
    li.textContent = text;
    if (cls) li.className = cls;
    log.appendChild(li);
  }
  function step() {
    fetch(form.action || window.location.href, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (batch) {
      moved += batch.moved.length;
      failed += batch.failed.length;
      batch.failed_text.forEach(function (t) { note(t, "flash error"); });
      batch.not_movable_text.forEach(function (t) { note(t); });
      var done = total - batch.remaining;
      bar.value = done;
      status.textContent = fill(form.getAttribute("data-progress-text"), { done: done, total: total, moved: moved });
      if (batch.next_after) {
        after.value = batch.next_after;
        step();
      } else {
        status.textContent = fill(form.getAttribute("data-done-text"), { moved: moved, failed: failed }) + " ";
        var again = document.createElement("a");  // the dry-run table above is now out of date
        again.href = window.location.href;
        again.textContent = form.getAttribute("data-left-text");
        status.appendChild(again);
        form.classList.add("finished");
      }
    }).catch(function () {
      status.textContent = form.getAttribute("data-error-text");
      button.disabled = false;
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    form.querySelector(".migration-progress").hidden = false;
    step();
  });
})();
