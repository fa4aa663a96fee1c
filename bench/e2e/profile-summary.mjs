// Summarises a V8 .cpuprofile (node --cpu-prof, deno/bun equivalents) by self time per function, mapping positions
// in run.mjs's bundles back to the packages' TypeScript sources through the bundle's source map.
//
//   node bench/e2e/profile-summary.mjs FILE.cpuprofile [--top 30] [--inclusive]
//
// Self time: samples whose leaf is the function. Inclusive (--inclusive): samples with the function anywhere on
// the stack (counted once per sample), which shows which of our layers the time is spent under.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relative, resolve, dirname } from 'node:path';

const argv = process.argv.slice(2);
const file = argv.find((a) => !a.startsWith('--'));
if (!file) { console.error('usage: profile-summary.mjs FILE.cpuprofile [--top N] [--inclusive]'); process.exit(64); }
const top = Number(argv[argv.indexOf('--top') + 1]) || 30;
const inclusive = argv.includes('--inclusive');
const byFile = argv.includes('--by-file'); // self time per source file (node:internal/webstreams/*, packages/x/src/y.ts ...)
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---- source maps (v3, VLQ "mappings") ----------------------------------------------------------------------------
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function decodeMappings(s) {
  const lines = [];
  let src = 0, oline = 0, ocol = 0;
  for (const lineStr of s.split(';')) {
    const segs = [];
    let col = 0;
    for (const seg of lineStr.split(',')) {
      if (!seg) continue;
      const v = [];
      let shift = 0, val = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch);
        val += (d & 31) << shift;
        if (d & 32) { shift += 5; continue; }
        v.push(val & 1 ? -(val >>> 1) : val >>> 1);
        val = 0; shift = 0;
      }
      col += v[0];
      if (v.length >= 4) { src += v[1]; oline += v[2]; ocol += v[3]; segs.push([col, src, oline, ocol]); }
    }
    lines.push(segs);
  }
  return lines;
}
const maps = new Map();
function mapFor(url) {
  if (maps.has(url)) return maps.get(url);
  let m = null;
  try {
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    if (path && existsSync(path + '.map')) {
      const j = JSON.parse(readFileSync(path + '.map', 'utf8'));
      m = { sources: j.sources.map((s) => resolve(dirname(path), s)), lines: decodeMappings(j.mappings) };
    }
  } catch { m = null; }
  maps.set(url, m);
  return m;
}
/** 0-based line/column in the bundle -> "packages/x/src/y.ts:LINE" (1-based). */
function original(url, line, col) {
  const m = mapFor(url);
  if (!m) return null;
  const segs = m.lines[line];
  if (!segs || segs.length === 0) return null;
  let best = segs[0];
  for (const s of segs) { if (s[0] <= col) best = s; else break; }
  return `${relative(root, m.sources[best[1]])}:${best[2] + 1}`;
}

// ---- profile -------------------------------------------------------------------------------------------------------
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const where = (cf) => {
  const o = cf.url && cf.lineNumber >= 0 ? original(cf.url, cf.lineNumber, cf.columnNumber) : null;
  if (o) return o;
  if (!cf.url) return '(native)';
  const u = cf.url.replace(/^file:\/\//, '');
  return `${u.startsWith(root) ? relative(root, u) : u}:${cf.lineNumber + 1}`;
};
const key = (n) => byFile
  ? (where(n.callFrame).replace(/:\d+$/, '') === '(native)' ? `(native) ${n.callFrame.functionName}` : where(n.callFrame).replace(/:\d+$/, ''))
  : `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame)}`;

const counts = new Map();
const total = prof.samples.length;
for (const id of prof.samples) {
  if (!inclusive) { const k = key(byId.get(id)); counts.set(k, (counts.get(k) ?? 0) + 1); continue; }
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) seen.add(key(byId.get(cur)));
  for (const k of seen) counts.set(k, (counts.get(k) ?? 0) + 1);
}
const idle = ['(idle)', '(program)', '(garbage collector)'].map((n) => [n, prof.nodes.filter((x) => x.callFrame.functionName === n).map((x) => x.id)]);
const sampleCount = new Map();
for (const id of prof.samples) sampleCount.set(id, (sampleCount.get(id) ?? 0) + 1);
console.log(`${file}: ${total} samples, ${((prof.endTime - prof.startTime) / 1e6).toFixed(1)} s; ` +
  idle.map(([n, ids]) => `${n} ${(100 * ids.reduce((a, i) => a + (sampleCount.get(i) ?? 0), 0) / total).toFixed(1)}%`).join(', '));
console.log(`${inclusive ? 'inclusive' : 'self'} time, top ${top}:`);
for (const [k, c] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(100 * c / total).toFixed(1).padStart(6)}%  ${k}`);
