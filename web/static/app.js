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

  // --- photos are made smaller in the browser before they travel (a phone on a slow network) ----
  var MAX_SIDE = 1600;
  function compress(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) { resolve(file); return; }
      createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
        var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
        if (scale === 1 && file.size < 500000) { resolve(file); return; }
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) { resolve(blob && blob.size < file.size ? blob : file); }, "image/jpeg", 0.82);
      }).catch(function () { resolve(file); });
    });
  }
  window.citycaseCompress = compress;

  // --- photo uploads: each chosen file goes to /attachments, its token into the hidden field -----
  function addThumb(thumbs, src) {
    var img = document.createElement("img");
    img.className = "thumb";
    img.alt = "";
    img.src = src;
    thumbs.appendChild(img);
  }
  window.citycaseAddThumb = addThumb;

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
        return compress(file).then(function (small) {
          var data = new FormData();
          data.append("file", small, file.name || "photo.jpg");
          data.append("stage", picker.getAttribute("data-stage") || "report");
          return fetch("/attachments", {
            method: "POST", body: data, credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken(form) }
          }).catch(function (err) {
            // Offline: the report page keeps the photo in its draft and sends it later.
            form.dispatchEvent(new CustomEvent("citycase:photo-offline", { detail: { blob: small } }));
            err.offline = true;
            throw err;
          }).then(function (r) {
            return r.json().catch(function () { return {}; }).then(function (body) {
              if (!r.ok) throw new Error(body.message || ("HTTP " + r.status));
              var list = tokens.value ? tokens.value.split(",") : [];
              list.push(body.token);
              tokens.value = list.join(",");
              addThumb(thumbs, body.thumb);
              form.dispatchEvent(new Event("input"));
            });
          });
        });
      });
      Promise.allSettled(pending).then(function (results) {
        var failed = results.filter(function (r) { return r.status === "rejected" && !r.reason.offline; });
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

  // --- position from the device (WGS-84), with its accuracy ---------------------------------
  document.querySelectorAll("button.locate").forEach(function (button) {
    var accuracy = button.parentNode.querySelector(".gps-accuracy");
    if (!navigator.geolocation) { button.hidden = true; return; }
    button.addEventListener("click", function () {
      if (accuracy) accuracy.textContent = button.getAttribute("data-locating") || "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("lat").value = pos.coords.latitude.toFixed(7);
        document.getElementById("lon").value = pos.coords.longitude.toFixed(7);
        document.getElementById("coord_crs").value = "WGS84";
        if (accuracy) {
          accuracy.textContent = (button.getAttribute("data-accuracy") || "± {m} m")
            .replace("{m}", String(Math.round(pos.coords.accuracy)));
        }
        button.form && button.form.dispatchEvent(new Event("input"));
        document.dispatchEvent(new CustomEvent("citycase:located", {
          detail: { lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy }
        }));
      }, function () {
        if (accuracy) accuracy.textContent = button.getAttribute("data-failed") || "";
      }, { enableHighAccuracy: true, timeout: 15000 });
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

/* citycase: a form whose photos were already uploaded sends no empty file field, so the browser
   may keep the answer (a refused form) for the Back button instead of a cache-miss page. */
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll('input[type="file"]').forEach(function (input) {
        if (!input.files || !input.files.length) input.disabled = true;
      });
    });
  });
  window.addEventListener("pageshow", function () {  // back from the next page: usable again
    document.querySelectorAll('input[type="file"]:disabled').forEach(function (input) { input.disabled = false; });
  });
})();

/* citycase: on a phone the filters start folded (the tasks come first), unless some are set. */
(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(max-width: 600px)").matches) return;
  document.querySelectorAll('details.filter-box[data-narrow-closed="yes"]').forEach(function (box) {
    box.open = false;
  });
})();
