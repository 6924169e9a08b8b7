/* citycase designer: open a BPMN, DMN or form file in its bpmn.io editor, save it as a proposal,
   and list validation problems; clicking one selects its element. No inline script: everything
   the page needs is in data attributes of #editor. */
(function () {
  "use strict";

  var root = document.getElementById("editor");
  if (!root) return;
  var d = root.dataset;
  var status = document.getElementById("editor-status");
  var saveButton = document.getElementById("save-proposal");
  var problemList = document.getElementById("problems");
  var editor = null;
  var kinds = JSON.parse(d.kinds || "{}");

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  // --- one adapter per editor: open(text), save() -> Promise<text>, select(id) -------------
  var adapters = {
    bpmn: {
      create: function () {
        return window.CitycaseModeler({ container: root, panel: "#properties", forms: JSON.parse(d.forms || "[]") });
      },
      open: function (text) {
        return editor.importXML(text).then(function () { editor.get("canvas").zoom("fit-viewport"); });
      },
      save: function () { return editor.saveXML({ format: true }).then(function (r) { return r.xml; }); },
      onChange: function (fn) { editor.on("commandStack.changed", fn); },
      select: function (id) {
        var element = editor.get("elementRegistry").get(id);
        if (!element) return false;
        var canvas = editor.get("canvas");
        editor.get("selection").select(element);
        canvas.zoom(1);  // readable labels around the element, then bring it into view
        canvas.scrollToElement(element, { top: 200, bottom: 200, left: 300, right: 300 });
        return true;
      }
    },
    dmn: {
      create: function () { return new window.DmnJS({ container: root, common: { keyboard: { bindTo: window } } }); },
      open: function (text) {
        return editor.importXML(text).then(function () {
          var table = editor.getViews().filter(function (v) { return v.type === "decisionTable"; })[0];
          if (table) return editor.open(table);
        });
      },
      save: function () { return editor.saveXML({ format: true }).then(function (r) { return r.xml; }); },
      onChange: function (fn) {
        // each view (table, DRD) has its own command stack; listen on every view that opens
        var attached = [];
        function attach() {
          var viewer = editor.getActiveViewer();
          if (viewer && attached.indexOf(viewer) < 0) {
            attached.push(viewer);
            viewer.on("commandStack.changed", fn);
          }
        }
        attach();
        editor.on("views.changed", attach);
      },
      select: function (id) {
        var views = editor.getViews();
        for (var i = 0; i < views.length; i++) {
          var view = views[i];
          if (view.type !== "decisionTable") continue;
          var rules = (view.element.decisionLogic && view.element.decisionLogic.rule) || [];
          var hit = rules.some(function (r) {
            return r.id === id || (r.inputEntry || []).concat(r.outputEntry || []).some(function (c) { return c.id === id; });
          });
          if (hit || view.element.id === id) {
            return Promise.resolve(editor.getActiveView() === view ? null : editor.open(view)).then(function () {
              return markRow(id);
            });
          }
        }
        return false;
      }
    },
    form: {
      create: function () { return new window.FormEditor.FormEditor({ container: root }); },
      open: function (text) { return editor.importSchema(JSON.parse(text)); },
      save: function () { return Promise.resolve(JSON.stringify(editor.saveSchema(), null, 2) + "\n"); },
      onChange: function (fn) { editor.on("changed", fn); },
      select: function (key) {
        var registry = editor.get("formFieldRegistry");
        var field = registry.getAll().filter(function (f) { return f.id === key || f.key === key; })[0];
        if (!field) return false;
        editor.get("selection").set(field);
        return true;
      }
    }
  };

  function markRow(id) {
    var cell = root.querySelector('[data-row-id="' + CSS.escape(id) + '"], [data-element-id="' + CSS.escape(id) + '"]');
    root.querySelectorAll(".problem-mark").forEach(function (el) { el.classList.remove("problem-mark"); });
    if (!cell) return false;
    var row = cell.closest("tr") || cell;
    row.classList.add("problem-mark");
    row.scrollIntoView({ block: "center" });
    return true;
  }

  var adapter = adapters[d.kind];

  function showProblems(problems) {
    problemList.textContent = "";
    problems.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "problem problem-" + p.kind;
      var here = p.file === d.name && p.element_id;
      var kind = kinds[p.kind] || p.kind;
      var label = "[" + kind + "] " + p.file + (p.element_id ? " #" + p.element_id : "") + ": " + p.message;
      if (here) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.textContent = label;
        button.addEventListener("click", function () { adapter.select(p.element_id); });
        li.appendChild(button);
      } else {
        li.textContent = label;
      }
      problemList.appendChild(li);
    });
    if (problems.length && problems[0].file === d.name && problems[0].element_id) adapter.select(problems[0].element_id);
  }

  function save() {
    saveButton.disabled = true;
    adapter.save().then(function (text) {
      return fetch(d.saveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": d.csrf },
        body: JSON.stringify({ base: parseInt(d.base, 10), name: d.name, text: text })
      });
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (r) {
      if (r.status === 201) {
        showProblems([]);
        say(d.msgSaved + " ", "ok");  // the number links to the proposal (approve, diff, what-if from there)
        var link = document.createElement("a");
        link.href = r.body.url;
        link.textContent = "#" + r.body.id;
        status.appendChild(link);
      } else {
        say(r.status === 422 ? d.msgProblems : r.body.message, "error");
        showProblems(r.body.problems || []);
        saveButton.disabled = false;
      }
    }).catch(function (err) {
      say(String(err), "error");
      saveButton.disabled = false;
    });
  }

  var fileSwitch = document.getElementById("file-switch");
  if (fileSwitch) fileSwitch.addEventListener("change", function () { window.location = fileSwitch.value; });

  say(d.msgLoading);
  editor = adapter.create();
  fetch(d.fileUrl, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error(response.status);
    return response.text();
  }).then(function (text) {
    return adapter.open(text);
  }).then(function () {
    // The properties panel subscribes to selection changes after its first render: give it a
    // moment before selecting the element the page was opened for.
    return new Promise(function (resolve) { window.setTimeout(resolve, 150); });
  }).then(function () {
    if (d.element) adapter.select(d.element);
    say("");
    root.setAttribute("data-ready", "true");
    if (saveButton) {
      adapter.onChange(function () { saveButton.disabled = false; say(d.msgChanged); });
      saveButton.addEventListener("click", save);
    }
  }).catch(function (err) {
    say(d.msgError + ": " + err, "error");
    root.setAttribute("data-ready", "error");
  });

  window.citycaseDesigner = { editor: function () { return editor; }, select: function (id) { return adapter.select(id); } };
}());
