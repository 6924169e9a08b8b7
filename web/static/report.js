/* citycase: a report is never lost. While it is typed, the form is kept in localStorage; a send
   that finds no network keeps it (with photos that could not be uploaded) and sends it when the
   network is back; a send that finds the sign-in expired keeps it until the user signs in again.
   Every send of one report carries the same idempotency key, so the server makes one case. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft]");
  if (!form || !window.localStorage || !window.fetch || !window.FormData) return;
  var STORE = "citycase:draft:" + form.getAttribute("data-draft");
  var status = form.querySelector(".draft-status");
  var sending = false;

  function say(text, link) {
    status.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = form.getAttribute("data-login-url");
      a.textContent = form.getAttribute("data-msg-signin-link");
      status.appendChild(document.createTextNode(" "));
      status.appendChild(a);
    }
    status.hidden = !text;
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE) || "null"); } catch (e) { return null; }
  }

  function store(draft) {
    try { localStorage.setItem(STORE, JSON.stringify(draft)); return true; } catch (e) { return false; }
  }

  function fields() {
    var values = {};
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.type === "file" || el.name === "csrf_token") return;
      if (el.type === "checkbox" || el.type === "radio") { if (el.checked) values[el.name] = el.value; return; }
      values[el.name] = el.value;
    });
    var major = form.querySelector("[data-draft-key=major]");
    if (major) values["_major"] = major.value;
    return values;
  }

  function current() {
    var draft = load() || {};
    draft.values = fields();
    draft.photos = draft.photos || [];
    return draft;
  }

  function restore(draft) {
    var values = draft.values || {};
    var major = form.querySelector("[data-draft-key=major]");
    if (major && values["_major"]) { major.value = values["_major"]; major.dispatchEvent(new Event("change")); }
    Object.keys(values).forEach(function (name) {
      if (name === "_major") return;
      form.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") el.checked = el.value === values[name];
        else el.value = values[name];
      });
    });
    var thumbs = form.querySelector(".filepicker .thumbs");
    (draft.photos || []).forEach(function (dataUrl) { if (thumbs) window.citycaseAddThumb(thumbs, dataUrl); });
  }

  function blobOf(dataUrl) {
    // By hand: fetch(data:…) would need a wider Content-Security-Policy (connect-src data:).
    var parts = dataUrl.split(",");
    var type = (parts[0].match(/^data:([^;]+)/) || [])[1] || "image/jpeg";
    var bytes = atob(parts[1]);
    var buffer = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) buffer[i] = bytes.charCodeAt(i);
    return Promise.resolve(new Blob([buffer], { type: type }));
  }

  function uploadKept(draft) {
    // Photos kept while offline go first; their tokens join the report's photos.
    var kept = draft.photos || [];
    return kept.reduce(function (chain, dataUrl) {
      return chain.then(function () {
        return blobOf(dataUrl).then(function (blob) {
          var data = new FormData();
          data.append("file", blob, "photo.jpg");
          data.append("stage", "report");
          return fetch("/attachments", { method: "POST", body: data, credentials: "same-origin",
                                         headers: { "X-CSRFToken": csrf() } });
        }).then(function (r) {
          if (r.status === 401 || r.redirected) throw { signin: true };
          return r.json().then(function (body) {
            if (!r.ok) throw new Error(body.message || ("HTTP " + r.status));
            var list = draft.values.photos ? draft.values.photos.split(",") : [];
            list.push(body.token);
            draft.values.photos = list.join(",");
            draft.photos = draft.photos.filter(function (p) { return p !== dataUrl; });
            store(draft);
          });
        });
      });
    }, Promise.resolve());
  }

  function csrf() {
    var input = form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  function send() {
    var draft = load();
    if (!draft || !draft.pending || sending) return;
    if (!navigator.onLine) { say(form.getAttribute("data-msg-offline")); return; }
    sending = true;
    say(form.getAttribute("data-msg-sending"));
    uploadKept(draft).then(function () {
      var body = new FormData();
      Object.keys(draft.values).forEach(function (name) {
        if (name !== "_major") body.append(name, draft.values[name]);
      });
      body.set("csrf_token", csrf());  // this page's token: the draft may come from an earlier sign-in
      return fetch(form.getAttribute("action") || location.pathname, {
        method: "POST", body: body, credentials: "same-origin", redirect: "follow"
      });
    }).then(function (response) {
      sending = false;
      if (response.redirected && response.url.indexOf("/login") >= 0) throw { signin: true };
      return response.text().then(function (html) {
        var refused = response.status === 400 && html.indexOf('name="idempotency_key"') < 0;
        if (refused && form.getAttribute("data-draft") === "public" && !sessionStorage.getItem(STORE)) {
          // A citizen's form expired (CSRF): a fresh page brings a fresh form; it sends the kept draft.
          sessionStorage.setItem(STORE, "reloaded");
          location.reload();
          return;
        }
        if (refused) throw { signin: true };  // the form expired with the session (CSRF): sign in again
        sessionStorage.removeItem(STORE);
        if (response.ok) localStorage.removeItem(STORE);
        else { draft.pending = false; store(draft); }
        if (response.redirected) { location.assign(response.url); return; }
        document.open();
        document.write(html);
        document.close();
      });
    }).catch(function (err) {
      sending = false;
      if (err && err.signin) { say(form.getAttribute("data-msg-signin"), true); return; }
      if (err instanceof TypeError) { say(form.getAttribute("data-msg-offline")); return; }  // network
      say(String(err && err.message || err));
    });
  }

  // Keep what is typed; a refused or fresh page starts from the kept draft when it is newer.
  var kept = load();
  var key = form.querySelector('input[name="idempotency_key"]');
  if (kept && kept.values && key) {
    if (kept.pending) { restore(kept); say(form.getAttribute("data-msg-offline")); send(); }
    else if (kept.values.idempotency_key !== key.value && !form.querySelector(".has-error")) {
      restore(kept);
      say(form.getAttribute("data-msg-restored"));
    }
  }
  form.addEventListener("input", function () { var d = current(); d.pending = false; store(d); });
  form.addEventListener("change", function () { var d = current(); d.pending = false; store(d); });
  form.addEventListener("citycase:photo-offline", function (e) {
    var reader = new FileReader();
    reader.onload = function () {
      var draft = current();
      draft.photos.push(reader.result);
      if (!store(draft)) return;
      var thumbs = form.querySelector(".filepicker .thumbs");
      if (thumbs) window.citycaseAddThumb(thumbs, reader.result);
      say(form.getAttribute("data-msg-photo-kept"));
    };
    reader.readAsDataURL(e.detail.blob);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var draft = current();
    draft.pending = true;
    store(draft);
    send();
  });
  window.addEventListener("online", send);
})();

/* citycase: possible duplicates while a report is typed (same class nearby, or the same component). */
(function () {
  "use strict";
  var box = document.querySelector(".similar[data-url]");
  if (!box || !window.fetch) return;
  var form = box.closest("form");
  var timer = null;
  function value(name) { var el = form.querySelector('[name="' + name + '"]'); return el ? el.value.trim() : ""; }
  function look() {
    var params = new URLSearchParams({ class_code: value("class_code"), lat: value("lat"), lon: value("lon"),
                                       coord_crs: value("coord_crs") || "WGS84", component_id: value("component_id") });
    if (!params.get("class_code") || ((!params.get("lat") || !params.get("lon")) && !params.get("component_id"))) {
      box.hidden = true;
      return;
    }
    fetch(box.getAttribute("data-url") + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        box.textContent = "";
        if (!body || !body.count) { box.hidden = true; return; }
        if (body.cases) {
          box.appendChild(document.createTextNode(box.getAttribute("data-msg-staff") + ": "));
          body.cases.forEach(function (c, i) {
            var a = document.createElement("a");
            a.href = c.url;
            a.textContent = c.number;
            if (i) box.appendChild(document.createTextNode("、"));
            box.appendChild(a);
            box.appendChild(document.createTextNode(" (" + box.getAttribute("data-msg-metres")
              .replace("{m}", String(Math.round(c.distance_m))) + ")"));
          });
        } else {
          box.textContent = box.getAttribute("data-msg-public").replace("{n}", String(body.count));
        }
        box.hidden = false;
      })
      .catch(function () { box.hidden = true; });
  }
  function soon() { window.clearTimeout(timer); timer = window.setTimeout(look, 400); }
  form.addEventListener("change", soon);
  form.addEventListener("input", soon);
  document.addEventListener("citycase:located", soon);
  look();
})();
