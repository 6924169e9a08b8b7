// Read each file with the bpmn.io readers (what bpmn-js / dmn-js use), report warnings,
// and write it back as those editors would save it. Usage: node roundtrip.mjs MODDLE_DIR OUT_DIR FILE…
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [moddleDir, outDir, ...files] = process.argv.slice(2);
const load = async (name, symbol) => {
  const mod = await import(pathToFileURL(join(moddleDir, 'node_modules', name, 'dist', 'index.js')).href);
  return mod[symbol] ?? mod.default;
};
const BpmnModdle = await load('bpmn-moddle', 'BpmnModdle');
const DmnModdle = await load('dmn-moddle', 'DmnModdle');
const report = {};
for (const file of files) {
  const xml = readFileSync(file, 'utf8');
  // the packages' default export is a factory that returns a configured moddle
  const moddle = file.endsWith('.dmn') ? DmnModdle() : BpmnModdle();
  const root = file.endsWith('.dmn') ? 'dmn:Definitions' : 'bpmn:Definitions';
  const { rootElement, warnings } = await moddle.fromXML(xml, root);
  const { xml: saved } = await moddle.toXML(rootElement, { format: true });
  writeFileSync(join(outDir, basename(file)), saved);
  report[basename(file)] = warnings.map((w) => w.message);
}
console.log(JSON.stringify(report));
