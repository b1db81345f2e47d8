import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { histogramEdges, type Summary } from './stats.ts';

/** The table on stdout, the machine description and the SVG chart. */

export interface Row {
  scenario: string;
  metric: string;
  edgecam: number;
  baseline: number;
  baselineName: string;
  /** edgecam / baseline */
  ratio: number;
  target?: { op: '>=' | '<='; value: number } | undefined;
  met?: boolean | undefined;
  error?: string;
}

export function machine(): Record<string, unknown> {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {}
  return { nproc: cpus().length, cpu: model, memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)), node: process.version };
}

const fmt = (n: number) =>
  Number.isNaN(n) ? '—' : Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2);

export function table(rows: Row[]): string {
  const lines = [['scenario', 'metric', 'edgecam', 'baseline', 'ratio', 'target']];
  for (const row of rows) {
    const target = row.target ? `${row.target.op} ${row.target.value}× ${row.met ? 'met' : 'NOT met'}` : '';
    lines.push([
      row.scenario,
      row.error ? `error: ${row.error.split('\n')[0]}` : row.metric,
      fmt(row.edgecam),
      row.error ? '' : `${fmt(row.baseline)} (${row.baselineName})`,
      Number.isNaN(row.ratio) ? '—' : `${row.ratio.toFixed(2)}×`,
      target,
    ]);
  }
  const widths = lines[0]?.map((_, col) => Math.max(...lines.map((line) => (line[col] as string).length))) ?? [];
  return lines
    .map((line, i) => {
      const text = line.map((cell, col) => cell.padEnd(widths[col] as number)).join(' | ');
      return i === 0 ? `${text}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}` : text;
    })
    .join('\n');
}

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Three panels: latency (p50/p99, log scale) edgecam vs baseline, the latency distribution of the
 * largest fixed-rate relay run, and every ratio (log scale around 1×) with its target.
 */
export function svg(rows: Row[], details: Record<string, unknown>): string {
  const width = 960;
  const parts: string[] = [];
  let y = 30;
  const text = (x: number, yy: number, s: string, extra = '') => parts.push(`<text x="${x}" y="${yy}" ${extra}>${esc(s)}</text>`);
  text(20, y, 'edgecam benchmark — edgecam (blue) vs baseline (grey)', 'font-size="18" font-weight="bold"');
  y += 30;

  // Panel 1: latencies.
  const lat = rows.filter((r) => !r.error && r.metric.includes(' ms'));
  text(20, y, 'Latency, ms (log scale)', 'font-size="14" font-weight="bold"');
  y += 10;
  const logScale = (v: number, max: number, span: number) =>
    v > 0 ? Math.max(2, (Math.log10(v * 100) / Math.log10(max * 100)) * span) : 0;
  const maxLat = Math.max(1, ...lat.flatMap((r) => [r.edgecam, r.baseline]).filter(Number.isFinite));
  for (const row of lat) {
    text(20, y + 14, `${row.scenario} — ${row.metric} (${row.baselineName})`, 'font-size="11"');
    const e = logScale(row.edgecam, maxLat, 420);
    const b = logScale(row.baseline, maxLat, 420);
    parts.push(`<rect x="400" y="${y + 3}" width="${e}" height="8" fill="#2b6cb0"/>`);
    parts.push(`<rect x="400" y="${y + 12}" width="${b}" height="8" fill="#a0aec0"/>`);
    text(405 + Math.max(e, b), y + 17, `${row.edgecam.toFixed(2)} / ${row.baseline.toFixed(2)} ms`, 'font-size="10"');
    y += 24;
  }
  y += 20;

  // Panel 2: distribution of the largest fixed-rate relay.
  const relayKeys = Object.keys(details).filter((k) => k.startsWith('relay_rate_'));
  const last = relayKeys[relayKeys.length - 1];
  if (last) {
    const run = details[last] as { edgecam: { latency: Summary }; pass: { latency: Summary } };
    text(
      20,
      y,
      `One-way relay latency distribution, ${last.replace('relay_rate_', '')} (share of messages per bucket)`,
      'font-size="14" font-weight="bold"',
    );
    y += 20;
    const e = run.edgecam.latency;
    const p = run.pass.latency;
    const bucketW = 60;
    const height = 100;
    histogramEdges.forEach((edge, i) => {
      const x = 40 + i * (bucketW + 8);
      const he = ((e.histogram[i] ?? 0) / Math.max(1, e.count)) * height;
      const hp = ((p.histogram[i] ?? 0) / Math.max(1, p.count)) * height;
      parts.push(`<rect x="${x}" y="${y + height - he}" width="${bucketW / 2 - 2}" height="${he}" fill="#2b6cb0"/>`);
      parts.push(
        `<rect x="${x + bucketW / 2}" y="${y + height - hp}" width="${bucketW / 2 - 2}" height="${hp}" fill="#a0aec0"/>`,
      );
      text(x, y + height + 14, Number.isFinite(edge) ? `≤${edge}` : '>500', 'font-size="10"');
    });
    y += height + 40;
  }

  // Panel 3: ratios.
  text(20, y, 'edgecam / baseline (log scale; 1× at the line, target marked in red)', 'font-size="14" font-weight="bold"');
  y += 10;
  const center = 620;
  const unit = 120; // px per factor of 10
  const px = (ratio: number) => center + Math.log10(ratio) * unit;
  const top = y;
  for (const row of rows.filter((r) => !r.error && Number.isFinite(r.ratio) && r.ratio > 0)) {
    text(20, y + 13, `${row.scenario} — ${row.metric} (${row.baselineName})`, 'font-size="11"');
    const x = px(row.ratio);
    const color = row.met === false ? '#c53030' : row.met ? '#2f855a' : '#2b6cb0';
    parts.push(
      `<rect x="${Math.min(x, center)}" y="${y + 3}" width="${Math.max(1, Math.abs(x - center))}" height="12" fill="${color}"/>`,
    );
    if (row.target) parts.push(`<rect x="${px(row.target.value) - 1}" y="${y}" width="3" height="18" fill="#e53e3e"/>`);
    text(Math.max(x, center) + 6, y + 13, `${row.ratio.toFixed(2)}×`, 'font-size="10"');
    y += 22;
  }
  parts.push(`<line x1="${center}" y1="${top}" x2="${center}" y2="${y}" stroke="#000"/>`);
  y += 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif" role="img" aria-label="edgecam benchmark">
<title>edgecam benchmark: edgecam vs raw ws baselines</title>
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
</svg>
`;
}
