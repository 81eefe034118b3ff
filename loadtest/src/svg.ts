/**
 * Line charts as SVG text, with nothing but string building: axes with round ticks (linear or log), one line per
 * series with a marker per point, a legend. Enough for the benchmark's two panels, readable in any browser and
 * on GitHub.
 */

export interface Series {
  name: string;
  colour: string;
  /** A dashed line (e.g. p50 beside a solid p99). */
  dashed?: boolean;
  points: readonly (readonly [x: number, y: number])[];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  series: readonly Series[];
  /** A dotted diagonal y = x (e.g. "every offered message handled"). */
  identity?: boolean;
}

const WIDTH = 520;
const HEIGHT = 380;
const MARGIN = { top: 40, right: 20, bottom: 120, left: 64 };

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const format = (value: number) =>
  value >= 1000
    ? `${+(value / 1000).toFixed(1)}k`
    : value >= 1
      ? `${+value.toFixed(1)}`
      : `${+value.toPrecision(2)}`;

/** About `count` round ticks covering [min, max]: steps of 1, 2 or 5 × 10^n. */
export function linearTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push(+v.toPrecision(12));
  return ticks;
}

/** Ticks 1, 2, 5 × 10^n within [min, max] (both > 0). */
export function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e += 1) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(+v.toPrecision(12));
    }
  }
  return ticks;
}

/** The nearest 1, 2 or 5 × 10^n at or below / above `value` (> 0): the ends of a log axis. */
export function roundDown(value: number): number {
  const e = 10 ** Math.floor(Math.log10(value));
  return [5, 2, 1].map((m) => m * e).find((v) => v <= value * (1 + 1e-9)) ?? e;
}
export function roundUp(value: number): number {
  const e = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * e).find((v) => v >= value * (1 - 1e-9)) ?? 10 * e;
}

function panelSvg(panel: Panel, offsetX: number): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const points = panel.series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y).filter((y) => !panel.logY || y > 0);
  const xMax = Math.max(1, ...xs);
  const xTicks = linearTicks(0, xMax);
  const xTop = Math.max(xMax, xTicks.at(-1) ?? xMax);
  let y: (v: number) => number;
  let yTicks: number[];
  if (panel.logY) {
    const lo = roundDown(Math.max(0.1, Math.min(...ys, 1)));
    const hi = roundUp(Math.max(lo * 10, ...ys));
    yTicks = logTicks(lo, hi);
    y = (v) =>
      MARGIN.top + plotH * (1 - (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / Math.log10(hi / lo));
  } else {
    const top = Math.max(1, ...ys, panel.identity ? xMax : 0);
    yTicks = linearTicks(0, top);
    const yTop = Math.max(top, yTicks.at(-1) ?? top);
    y = (v) => MARGIN.top + plotH * (1 - v / yTop);
  }
  const x = (v: number) => MARGIN.left + (plotW * v) / xTop;
  const parts: string[] = [`<g transform="translate(${offsetX},0)">`];
  parts.push(
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(panel.title)}</text>`,
  );
  for (const t of yTicks) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${format(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    parts.push(
      `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${x(t).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" font-size="11">${format(t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 36}" text-anchor="middle" font-size="12">${escapeXml(panel.xLabel)}</text>`,
    `<text transform="translate(16,${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(panel.yLabel)}</text>`,
  );
  if (panel.identity) {
    parts.push(
      `<line x1="${x(0)}" y1="${y(0)}" x2="${x(xTop)}" y2="${y(xTop)}" stroke="#999" stroke-dasharray="2,4"/>`,
    );
  }
  for (const series of panel.series) {
    const shown = series.points.filter(([, v]) => Number.isFinite(v) && (!panel.logY || v > 0));
    if (shown.length === 0) continue;
    const path = shown
      .map(([px, py], i) => `${i ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<path d="${path}" fill="none" stroke="${series.colour}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6,4"' : ''}/>`,
      ...shown.map(
        ([px, py]) =>
          `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${series.colour}"><title>${escapeXml(`${series.name}: ${format(py)} at ${format(px)}`)}</title></circle>`,
      ),
    );
  }
  panel.series.forEach((series, i) => {
    const lx = MARGIN.left + (i % 2) * (plotW / 2);
    const ly = MARGIN.top + plotH + 58 + Math.floor(i / 2) * 18;
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${series.colour}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6,4"' : ''}/>`,
      `<text x="${lx + 30}" y="${ly}" font-size="11">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** Panels side by side in one SVG document, with a caption under them. */
export function chart(panels: readonly Panel[], caption = ''): string {
  const width = WIDTH * panels.length;
  const height = HEIGHT + (caption ? 24 : 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...panels.map((panel, i) => panelSvg(panel, i * WIDTH)),
    caption
      ? `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(caption)}</text>`
      : '',
    '</svg>',
    '',
  ].join('\n');
}
