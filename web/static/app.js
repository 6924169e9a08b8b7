/* citycase: small page helpers (conditional fields, photo uploads, class picker, position). */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form && form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  // --- conditional fields (form-js conditional.hide; the server re-checks) -------------------
  function currentValue(form, key) {
    var inputs = form.querySelectorAll('[name="' + key + '"]');
    if (!inputs.length) return null;
    var first = inputs[0];
    if (first.type === "checkbox" && inputs.length === 1) return first.checked;
    if (first.type === "radio" || first.type === "checkbox") {
      for (var i = 0; i < inputs.length; i++) if (inputs[i].checked) return inputs[i].value;
      return null;
    }
    var v = (first.value || "").trim();
    return v === "" ? null : v;
  }

  function updateConditions(form) {
    form.querySelectorAll(".field[data-hide-key]").forEach(function (field) {
      var expected = JSON.parse(field.getAttribute("data-hide-value"));
      var current = currentValue(form, field.getAttribute("data-hide-key"));
      var equal = typeof expected === "boolean" ? current === expected
        : (typeof current === "string" && current === expected);
      var hide = field.getAttribute("data-hide-op") === "=" ? equal : !equal;
      field.hidden = hide;
      field.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = hide; });
    });
  }

  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector(".field[data-hide-key]")) return;
    form.addEventListener("change", function () { updateConditions(form); });
    updateConditions(form);
  });

  // --- photo uploads: each chosen file goes to /attachments, its token into the hidden field -----
  document.querySelectorAll(".filepicker").forEach(function (picker) {
    var fileInput = picker.querySelector("input.upload");
    var tokens = picker.querySelector("input.tokens");
    var thumbs = picker.querySelector(".thumbs");
    var status = picker.querySelector(".upload-status");
    var form = picker.closest("form");
    fileInput.addEventListener("change", function () {
      var files = Array.prototype.slice.call(fileInput.files || []);
      if (!files.length) return;
      var submit = form.querySelector('button[type="submit"]');
      if (submit) submit.disabled = true;
      status.textContent = "…";
      var pending = files.map(function (file) {
        var data = new FormData();
        data.append("file", file);
        data.append("stage", picker.getAttribute("data-stage") || "report");
        return fetch("/attachments", {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(form) }
        }).then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (body) {
            if (!r.ok) throw new Error(body.message || ("HTTP " + r.status));
            var list = tokens.value ? tokens.value.split(",") : [];
            list.push(body.token);
            tokens.value = list.join(",");
            var img = document.createElement("img");
            img.className = "thumb";
            img.alt = "";
            img.src = body.thumb;
            thumbs.appendChild(img);
          });
        });
      });
      Promise.allSettled(pending).then(function (results) {
        var failed = results.filter(function (r) { return r.status === "rejected"; });
        status.textContent = failed.map(function (r) { return r.reason.message; }).join("; ");
        picker.classList.toggle("has-error", failed.length > 0);
        fileInput.value = "";  // uploaded already: do not send the files again with the form
        if (submit) submit.disabled = false;
      });
    });
  });

  // --- class picker: major class narrows the minor list ------------------------------------
  document.querySelectorAll(".major-picker").forEach(function (major) {
    var minor = major.parentNode.querySelector(".minor-picker");
    function narrow() {
      minor.querySelectorAll("optgroup").forEach(function (group) {
        var show = !major.value || group.getAttribute("data-major") === major.value;
        group.hidden = !show;
        group.disabled = !show;
      });
      var selected = minor.options[minor.selectedIndex];
      if (selected && selected.parentNode.disabled) minor.value = "";
    }
    major.addEventListener("change", narrow);
    if (major.value) narrow();  // a refused form comes back with its major class chosen
  });

  // --- position from the device (WGS-84) ----------------------------------------------------
  document.querySelectorAll("button.locate").forEach(function (button) {
    if (!navigator.geolocation) { button.hidden = true; return; }
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("lat").value = pos.coords.latitude.toFixed(7);
        document.getElementById("lon").value = pos.coords.longitude.toFixed(7);
        document.getElementById("coord_crs").value = "WGS84";
        document.dispatchEvent(new CustomEvent("citycase:located", {
          detail: { lat: pos.coords.latitude, lon: pos.coords.longitude }
        }));
      }, function (err) { button.textContent = err.message; }, { enableHighAccuracy: true, timeout: 15000 });
    });
  });
})();

/* citycase: the inbox says when new tasks arrive (polls a small count; no reload by itself). */
(function () {
  "use strict";
  var notice = document.querySelector(".new-tasks[data-count-url]");
  if (!notice || !window.fetch) return;
  var seen = Number(notice.getAttribute("data-mine")) + Number(notice.getAttribute("data-group"));
  function poll() {
    if (document.hidden) return;
    fetch(notice.getAttribute("data-count-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && body.mine + body.group > seen) notice.hidden = false;
      })
      .catch(function () { /* offline: try again at the next tick */ });
  }
  window.setInterval(poll, 30000);
  document.addEventListener("visibilitychange", poll);
})();

/* citycase: the case sheet's print button (no inline handlers: the CSP forbids them). */
(function () {
  "use strict";
  document.querySelectorAll(".print-button").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
