// SVG chart of one e2e run: one panel per workload (messages/s, each panel on its own linear scale, since the
// workloads differ by orders of magnitude) and one for idle memory per connection. Plain SVG text, no dependencies.

const COLORS = { node: '#3c873a', bun: '#c9822b', deno: '#2b6cb0', c: '#777777' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmt(x) {
  if (!Number.isFinite(x)) return '-';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${Math.round(x / 1e3)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(x >= 100 ? 0 : 1);
}

/**
 * @param result the object run.mjs writes to results.json
 * @param meta { SERVERS, WORKLOADS } from run.mjs (labels, families)
 */
export function renderChart(result, { SERVERS, WORKLOADS }) {
  const rowH = 18, labelW = 150, barW = 300, valueW = 70, panelW = labelW + barW + valueW, gap = 30, titleH = 24;
  const panels = [];
  for (const w of WORKLOADS) {
    const rows = result.summary.filter((x) => x.workload === w.id && x.ok > 0).map((x) => ({ id: x.server, value: x.msgsPerSec, note: x.loadgenBound ? ' LG' : '' }));
    if (rows.length) panels.push({ title: `${w.label}, ${w.conns} conns x ${w.inflight} in flight: messages/s`, rows });
  }
  const idle = result.idle.filter((x) => Number.isFinite(x.perConn));
  if (idle.length) panels.push({ title: `idle memory per connection, KiB (${idle[0].conns} connections; lower is better)`, rows: idle.map((x) => ({ id: x.server, value: x.perConn / 1024, note: '' })) });

  const cols = 2;
  const colH = [0, 0];
  const placed = panels.map((p) => {
    const c = colH[0] <= colH[1] ? 0 : 1;
    const h = titleH + p.rows.length * rowH + 10;
    const pos = { x: 20 + c * (panelW + gap), y: 60 + colH[c] };
    colH[c] += h + gap;
    return { ...p, ...pos };
  });
  const width = 40 + cols * panelW + gap, height = 60 + Math.max(...colH) + 30;
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  o.push(`<text x="20" y="24" font-size="16" font-weight="bold">streamsocket end-to-end echo benchmark</text>`);
  o.push(`<text x="20" y="44" fill="#555">${esc(`${result.started.slice(0, 16).replace('T', ' ')} UTC, ${result.rounds} round(s) x ${result.duration} s, medians; server on one core, C load generator on the other; node ${result.env.node}, bun ${result.env.bun}, ${result.env.deno.split(' (')[0]}, ws ${result.env.ws}`)}</text>`);
  for (const p of placed) {
    const max = Math.max(...p.rows.map((r) => r.value)) || 1;
    o.push(`<text x="${p.x}" y="${p.y + 14}" font-weight="bold">${esc(p.title)}</text>`);
    p.rows.forEach((r, i) => {
      const s = SERVERS.find((x) => x.id === r.id);
      const y = p.y + titleH + i * rowH;
      const len = Math.max(1, (r.value / max) * barW);
      const color = COLORS[s?.family] ?? '#999';
      o.push(`<text x="${p.x + labelW - 6}" y="${y + 12}" text-anchor="end"${s?.ours ? ' font-weight="bold"' : ''}>${esc(s?.label ?? r.id)}</text>`);
      o.push(`<rect x="${p.x + labelW}" y="${y + 2}" width="${len.toFixed(1)}" height="${rowH - 5}" fill="${color}"${s?.ours ? '' : ' fill-opacity="0.55"'}${s?.kind === 'tcp' ? ' stroke="#333" stroke-dasharray="3 2"' : ''}/>`);
      o.push(`<text x="${p.x + labelW + len + 4}" y="${y + 12}">${esc(fmt(r.value) + r.note)}</text>`);
    });
  }
  o.push(`<text x="20" y="${height - 12}" fill="#555">solid bars: @streamsocket adapters; pale: peers; dashed outline: raw TCP echo (the ceiling); LG: load generator saturated (lower bound)</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}
