/* citycase: the audit replay page. The server renders every step's panel; this script moves
   between them (slider, buttons, step list) and marks the diagram with bpmn-js's viewer. */
(function () {
  "use strict";
  var dataEl = document.getElementById("replay-data");
  var slider = document.getElementById("step-slider");
  if (!dataEl || !slider) return;
  var payload = JSON.parse(dataEl.textContent);
  var steps = payload.steps;
  var panels = document.querySelectorAll(".step-panel");
  var items = document.querySelectorAll(".step-list li");
  var counter = document.querySelector(".step-counter");
  var verifyStep = document.querySelector(".verify-step");
  var counterText = counter ? counter.textContent : "";
  var canvas = null;
  var registry = null;
  var marked = [];
  var STATES = ["completed", "active", "waiting"];

  function mark(index) {
    if (!canvas) return;
    marked.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
    marked = [];
    var step = steps[index];
    STATES.forEach(function (state) {
      step[state].forEach(function (id) {
        if (registry.get(id)) {
          canvas.addMarker(id, "replay-" + state);
          marked.push([id, "replay-" + state]);
        }
      });
    });
  }

  function show(index) {
    index = Math.max(0, Math.min(steps.length - 1, index));
    slider.value = String(index + 1);
    panels.forEach(function (p) { p.hidden = Number(p.getAttribute("data-index")) !== index; });
    items.forEach(function (li) { li.classList.toggle("current", Number(li.getAttribute("data-index")) === index); });
    if (counter) {
      // "Step 3 of 12" in the page's language: swap the first number of the server's text.
      counter.textContent = counterText.replace(/\d+/, String(index + 1));
    }
    if (verifyStep) verifyStep.value = String(steps[index].seq);
    var url = new URL(window.location.href);
    url.searchParams.set("step", String(steps[index].seq));
    window.history.replaceState(null, "", url.toString());
    mark(index);
  }

  slider.addEventListener("input", function () { show(Number(slider.value) - 1); });
  document.querySelector(".step-prev").addEventListener("click", function () { show(Number(slider.value) - 2); });
  document.querySelector(".step-next").addEventListener("click", function () { show(Number(slider.value)); });
  items.forEach(function (li) {
    li.querySelector("a").addEventListener("click", function (ev) {
      ev.preventDefault();
      show(Number(li.getAttribute("data-index")));
    });
  });

  var container = document.getElementById("diagram");
  if (container && typeof BpmnJS !== "undefined") {
    var viewer = new BpmnJS({ container: container });
    viewer.importXML(payload.xml).then(function () {
      canvas = viewer.get("canvas");
      registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport", "auto");  // centred
      mark(Number(slider.value) - 1);
      container.setAttribute("data-ready", "1");
    }).catch(function (err) {
      container.textContent = String(err && err.message ? err.message : err);
    });
  }
})();
