/**
 * Draws docs/benchmarks.svg from a results file: unicast-max throughput per peer (bars) and
 * unicast-latency p99 against the offered rate (lines, log scale). Plain SVG, no dependencies.
 *
 *   node --conditions=source --import tsx bench/chart.ts <results.json> [docs/benchmarks.svg]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Row, SuiteResult } from './results.js';

const COLORS: Record<string, string> = {
  'socket.io (emit)': '#888888',
  'socket.io-recovery (emit)': '#e0a030',
  'socket.io-adapter (emit)': '#6a9a40',
  'holdfast (concurrent)': '#2a7ab8',
  'holdfast (batch16)': '#1b4f7a',
  'holdfast (awaited)': '#8fc0e8',
};
const FALLBACK = ['#5a5', '#a55', '#55a', '#aa5'];

function color(name: string, i: number): string {
  return COLORS[name] ?? FALLBACK[i % FALLBACK.length] ?? '#000';
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const label = (r: Row): string => `${r.peer} (${r.pattern})`;
const med = (r: Row, m: string): number => r.metrics[m]?.median ?? NaN;

export function renderChart(result: SuiteResult): string {
  const width = 960;
  const panelH = 300;
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, extra = ''): void => {
    parts.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${esc(s)}</text>`);
  };

  // Panel 1: unicast-max bars, grouped by condition.
  const max = result.rows.filter((r) => r.bench === 'unicast-max');
  const groups = [...new Set(max.map((r) => `${r.params.fsync} · ${r.params.sessions} sessions`))];
  const peers = [...new Set(max.map(label))];
  const top = Math.max(1, ...max.map((r) => med(r, 'msgPerSec')));
  const x0 = 70;
  const y0 = 40;
  const plotW = width - x0 - 200;
  const plotH = panelH - 80;
  text(x0, 24, 'unicast-max: delivered msg/s (closed loop, 100-byte messages)', 'font-weight="bold"');
  if (max.length === 0) text(x0, y0 + plotH / 2, '(not in this run)', 'fill="#666"');
  for (let t = 0; t <= 4 && max.length > 0; t++) {
    const v = (top * t) / 4;
    const y = y0 + plotH - (plotH * t) / 4;
    parts.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    text(x0 - 6, y + 4, `${(v / 1000).toFixed(top < 20_000 ? 1 : 0)}k`, 'text-anchor="end"');
  }
  const groupW = plotW / Math.max(1, groups.length);
  const barW = (groupW * 0.8) / Math.max(1, peers.length);
  groups.forEach((g, gi) => {
    peers.forEach((p, pi) => {
      const row = max.find(
        (r) => label(r) === p && `${r.params.fsync} · ${r.params.sessions} sessions` === g,
      );
      if (!row) return;
      const v = med(row, 'msgPerSec');
      const h = (plotH * v) / top;
      const x = x0 + gi * groupW + groupW * 0.1 + pi * barW;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(y0 + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${color(p, pi)}"/>`,
      );
    });
    text(x0 + gi * groupW + groupW / 2, y0 + plotH + 16, g, 'text-anchor="middle"');
  });
  peers.forEach((p, pi) => {
    parts.push(
      `<rect x="${x0 + plotW + 16}" y="${y0 + pi * 18}" width="12" height="12" fill="${color(p, pi)}"/>`,
    );
    text(x0 + plotW + 34, y0 + pi * 18 + 10, p);
  });

  // Panel 2: p99 latency against offered rate, log scale.
  const lat = result.rows.filter((r) => r.bench === 'unicast-latency');
  const py0 = panelH + 50;
  text(
    x0,
    py0 - 16,
    'unicast-latency: p99 (ms, log scale) against offered msg/s (open loop)',
    'font-weight="bold"',
  );
  const rates = [...new Set(lat.map((r) => Number(r.params.rate)))].sort((a, b) => a - b);
  const latPeers = [...new Set(lat.map(label))];
  const values = lat.map((r) => med(r, 'p99Ms')).filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.log10(Math.max(0.1, Math.min(1, ...values)));
  const hi = Math.log10(Math.max(100, ...values));
  const yOf = (v: number): number => py0 + plotH - (plotH * (Math.log10(Math.max(v, 0.1)) - lo)) / (hi - lo);
  const xOf = (i: number): number => x0 + (rates.length <= 1 ? plotW / 2 : (plotW * i) / (rates.length - 1));
  for (let d = Math.ceil(lo); d <= Math.floor(hi); d++) {
    const y = yOf(10 ** d);
    parts.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    text(x0 - 6, y + 4, `${10 ** d}`, 'text-anchor="end"');
  }
  for (const limit of [20, 50]) {
    const y = yOf(limit);
    parts.push(
      `<line x1="${x0}" x2="${x0 + plotW}" y1="${y}" y2="${y}" stroke="#c33" stroke-dasharray="4 3"/>`,
    );
    text(x0 + plotW + 4, y + 4, `${limit} ms`, 'fill="#c33"');
  }
  rates.forEach((rate, i) =>
    text(xOf(i), py0 + plotH + 16, `${Math.round(rate / 1000)}k`, 'text-anchor="middle"'),
  );
  latPeers.forEach((p, pi) => {
    const points = rates
      .map((rate, i) => {
        const row = lat.find((r) => label(r) === p && Number(r.params.rate) === rate);
        return row ? `${xOf(i).toFixed(1)},${yOf(med(row, 'p99Ms')).toFixed(1)}` : undefined;
      })
      .filter((s): s is string => s !== undefined);
    parts.push(
      `<polyline points="${points.join(' ')}" fill="none" stroke="${color(p, pi)}" stroke-width="2.5"/>`,
    );
    for (const pt of points) {
      const [x, y] = pt.split(',');
      parts.push(`<circle cx="${x}" cy="${y}" r="3.5" fill="${color(p, pi)}"/>`);
    }
    parts.push(
      `<rect x="${x0 + plotW + 16}" y="${py0 + 20 + pi * 18}" width="12" height="12" fill="${color(p, pi)}"/>`,
    );
    text(x0 + plotW + 34, py0 + 30 + pi * 18, p);
  });
  const height = py0 + plotH + 50;
  text(
    x0,
    height - 12,
    `${result.profile} profile, ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC · ${result.machine.cpus} × ${result.machine.cpuModel}, Node ${result.machine.node}, Redis ${result.machine.redis}`,
    'fill="#666" font-size="11"',
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('chart.ts')) {
  const [input, output = 'docs/benchmarks.svg'] = process.argv.slice(2);
  if (!input) {
    console.error('usage: bench/chart.ts <results.json> [docs/benchmarks.svg]');
    process.exit(2);
  }
  writeFileSync(output, renderChart(JSON.parse(readFileSync(input, 'utf8')) as SuiteResult));
  console.log(`chart: ${output}`);
}
