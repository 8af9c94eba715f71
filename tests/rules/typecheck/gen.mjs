// Writes generated/<dashboard>.ts: each dashboards/*.json as an object literal that must
// satisfy ImportableDashboard (types.ts), so `tsc` type-checks the JSON against
// @grafana/schema. Also checks schemaVersion against the package's defaultDashboard.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dashDir = path.resolve(here, '../../../dashboards');
const out = path.join(here, 'generated');
const require = createRequire(import.meta.url);
const schema = require('@grafana/schema');
const current = schema.defaultDashboard.schemaVersion;

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out);
let bad = 0;
const files = fs.readdirSync(dashDir).filter((f) => f.endsWith('.json')).sort();
if (files.length === 0) {
  console.error(`no dashboards in ${dashDir}`);
  process.exit(1);
}
for (const f of files) {
  const text = fs.readFileSync(path.join(dashDir, f), 'utf8');
  const d = JSON.parse(text);
  if (d.schemaVersion !== current) {
    console.error(`${f}: schemaVersion ${d.schemaVersion}, @grafana/schema ${require('@grafana/schema/package.json').version} says ${current}`);
    bad++;
  }
  const name = path.basename(f, '.json').replace(/[^A-Za-z0-9_]/g, '_');
  fs.writeFileSync(path.join(out, `${name}.ts`),
    `// generated from dashboards/${f} by gen.mjs; do not edit\n` +
    `import type { ImportableDashboard } from '../types';\n` +
    `export const ${name} = ${text.trim()} satisfies ImportableDashboard;\n`);
}
console.log(`${files.length} dashboards written to ${path.relative(process.cwd(), out)}/ (schemaVersion ${current})`);
process.exit(bad ? 1 : 0);
