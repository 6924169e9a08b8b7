/* The BPMN modeler of the designer pages: bpmn-js with its properties panel and a "citycase"
   group for what SpiffWorkflow reads from our files — a user task's form (the formKey
   property) and a lane's role (its name). Bundled by web/designer/assets.py with esbuild into
   web/static/vendor/bpmnio/citycase-modeler/ (never committed); exposes window.CitycaseModeler. */
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, useService } from "bpmn-js-properties-panel";
import { SelectEntry, isSelectEntryEdited } from "@bpmn-io/properties-panel";
import { h } from "@bpmn-io/properties-panel/preact";
import spiffworkflow from "./spiffworkflow.json";

// The lane names the engine maps to roles (engine.definitions.ROLES_BY_LANE).
const LANES = ["supervisor", "acceptor", "shift_leader", "dispatcher", "department", "leader"];

function formProperty(bo) {
  const values = (bo.extensionElements && bo.extensionElements.values) || [];
  for (const ext of values) {
    if (ext.$type !== "spiffworkflow:Properties") continue;
    const found = (ext.properties || []).find((p) => p.name === "formKey");
    if (found) return found;
  }
  return null;
}

function FormKey(props) {
  const { element, id, forms } = props;
  const modeling = useService("modeling");
  const moddle = useService("moddle");
  const translate = useService("translate");
  const bo = element.businessObject;
  const getValue = () => (formProperty(bo) || {}).value || "";
  const setValue = (value) => {
    const existing = formProperty(bo);
    if (existing) {
      modeling.updateModdleProperties(element, existing, { value });
      return;
    }
    const property = moddle.create("spiffworkflow:Property", { name: "formKey", value });
    const container = moddle.create("spiffworkflow:Properties", { properties: [property] });
    const extensions = bo.extensionElements || moddle.create("bpmn:ExtensionElements", { values: [] });
    property.$parent = container;
    container.$parent = extensions;
    modeling.updateModdleProperties(element, extensions, { values: [...(extensions.values || []), container] });
    if (!bo.extensionElements) modeling.updateProperties(element, { extensionElements: extensions });
  };
  const getOptions = () => [{ value: "", label: "—" }, ...forms.map((f) => ({ value: f, label: f }))];
  return h(SelectEntry, { element, id, label: translate("Form"), getValue, setValue, getOptions });
}

function LaneRole(props) {
  const { element, id } = props;
  const modeling = useService("modeling");
  const translate = useService("translate");
  return h(SelectEntry, {
    element, id, label: translate("Role (lane)"),
    getValue: () => element.businessObject.name || "",
    setValue: (value) => modeling.updateProperties(element, { name: value }),
    getOptions: () => [{ value: "", label: "—" }, ...LANES.map((l) => ({ value: l, label: l }))]
  });
}

function CitycaseProvider(propertiesPanel, config) {
  const forms = (config && config.forms) || [];
  this.getGroups = (element) => (groups) => {
    const type = element.businessObject && element.businessObject.$type;
    const entries = [];
    if (type === "bpmn:UserTask") {
      entries.push({ id: "citycase-form", element, forms, component: FormKey, isEdited: isSelectEntryEdited });
    } else if (type === "bpmn:Lane") {
      entries.push({ id: "citycase-lane", element, component: LaneRole, isEdited: isSelectEntryEdited });
    }
    if (entries.length) groups.splice(1, 0, { id: "citycase", label: "citycase", entries, shouldOpen: true });
    return groups;
  };
  propertiesPanel.registerProvider(400, this);
}
CitycaseProvider.$inject = ["propertiesPanel", "config.citycase"];

const CitycaseModule = { __init__: ["citycaseProvider"], citycaseProvider: ["type", CitycaseProvider] };

window.CitycaseModeler = function (options) {
  return new BpmnModeler({
    container: options.container,
    keyboard: { bindTo: document },
    propertiesPanel: { parent: options.panel },
    citycase: { forms: options.forms || [] },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CitycaseModule],
    moddleExtensions: { spiffworkflow }
  });
};
