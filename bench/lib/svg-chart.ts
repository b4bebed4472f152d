/**
 * Line charts as SVG text, for the benchmark documents: a few series of (x, y) points, linear or logarithmic axes,
 * optional horizontal guide lines (a target), a legend. No chart library: the figures are small and the output is
 * a file a Markdown viewer shows as an image.
 */
export interface Series {
  name: string;
  points: { x: number; y: number; failed?: boolean }[];
  /** A reference (a target) rather than a measurement: drawn dashed, without markers. */
  dashed?: boolean;
  /** So that one design has one colour in every chart; by default the series' place picks one. */
  color?: string;
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: Series[];
  guides?: { y: number; label: string }[];
}

const W = 860;
const H = 440;
const M = { left: 78, right: 290, top: 64, bottom: 56 };
export const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round numbers for a scale: on a log axis the powers of ten (and 2, 5 between them when few), else 1-2-5 steps. */
function ticks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    const steps = Math.log10(max) - Math.log10(min) <= 2 ? [1, 2, 5] : [1];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of steps) {
        const v = m * 10 ** e;
        if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
      }
    }
    return out;
  }
  const raw = (max - min) / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (v >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

function extent(values: number[], log: boolean): [number, number] {
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (usable.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...usable);
  let hi = Math.max(...usable);
  if (log) {
    lo = 10 ** Math.floor(Math.log10(lo));
    // Headroom above the highest point or guide, so that a guide's label stays inside the plot.
    hi = 10 ** Math.ceil(Math.log10(hi * 1.5));
    if (lo === hi) hi = lo * 10;
  } else {
    lo = Math.min(0, lo);
    if (lo === hi) hi = lo + 1;
    hi *= 1.05;
  }
  return [lo, hi];
}

export function lineChart(spec: ChartSpec): string {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [...spec.series.flatMap((s) => s.points.map((p) => p.y)), ...(spec.guides ?? []).map((g) => g.y)];
  const [x0, x1] = extent(xs, spec.xLog ?? false);
  const [y0, y1] = extent(ys, spec.yLog ?? false);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const scale = (v: number, lo: number, hi: number, log: boolean) =>
    log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
  const px = (x: number) => M.left + scale(x, x0, x1, spec.xLog ?? false) * pw;
  const py = (y: number) => M.top + ph - scale(Math.max(y, spec.yLog ? y0 : -Infinity), y0, y1, spec.yLog ?? false) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${escape(spec.title)}</text>`,
  ];
  if (spec.subtitle) out.push(`<text x="${M.left}" y="42" fill="#555">${escape(spec.subtitle)}</text>`);
  for (const t of ticks(x0, x1, spec.xLog ?? false)) {
    out.push(`<line x1="${px(t)}" y1="${M.top}" x2="${px(t)}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${px(t)}" y="${M.top + ph + 16}" text-anchor="middle">${label(t)}</text>`);
  }
  for (const t of ticks(y0, y1, spec.yLog ?? false)) {
    out.push(`<line x1="${M.left}" y1="${py(t)}" x2="${M.left + pw}" y2="${py(t)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end">${label(t)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${escape(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escape(spec.yLabel)}</text>`);
  for (const g of spec.guides ?? []) {
    out.push(`<line x1="${M.left}" y1="${py(g.y)}" x2="${M.left + pw}" y2="${py(g.y)}" stroke="#999" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${M.left + pw - 4}" y="${py(g.y) - 5}" text-anchor="end" fill="#666">${escape(g.label)}</text>`);
  }
  spec.series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length]!;
    const pts = s.points.filter((p) => Number.isFinite(p.y) && (!spec.yLog || p.y > 0)).sort((a, b) => a.x - b.x);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of s.dashed ? [] : pts) {
      // A failed step (an answer failed or the delay limit was passed) is drawn hollow.
      out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="4" fill="${p.failed ? 'white' : color}" stroke="${color}" stroke-width="2"/>`);
    }
    const ly = M.top + 10 + i * 20;
    out.push(`<line x1="${M.left + pw + 14}" y1="${ly}" x2="${M.left + pw + 34}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${M.left + pw + 40}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  const ly = M.top + 10 + spec.series.length * 20 + 6;
  out.push(`<circle cx="${M.left + pw + 24}" cy="${ly}" r="4" fill="white" stroke="#555" stroke-width="2"/>`);
  out.push(`<text x="${M.left + pw + 40}" y="${ly + 4}" fill="#555">failed step</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
