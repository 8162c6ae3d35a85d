/**
 * uPlot charts in VS Code's colours: axes, grid and series colours come from the theme's CSS variables (the
 * `--vscode-charts-*` palette), and charts are rebuilt when the theme changes. Width follows the container.
 */
import uPlot from 'uplot';
import { formatBytes } from '../../render/timeline';
import { themeColor } from './dom';

export interface ChartTheme {
  foreground: string;
  grid: string;
  palette: string[];
  font: string;
}

export function chartTheme(): ChartTheme {
  const fg = themeColor('--vscode-descriptionForeground', themeColor('--vscode-foreground', '#888'));
  const family = themeColor('--vscode-font-family', 'system-ui, sans-serif');
  const size = themeColor('--vscode-font-size', '13px');
  return {
    foreground: fg,
    grid: themeColor('--vscode-charts-lines', 'rgba(128,128,128,0.35)'),
    palette: [
      themeColor('--vscode-charts-blue', '#3794ff'),
      themeColor('--vscode-charts-orange', '#d18616'),
      themeColor('--vscode-charts-green', '#89d185'),
      themeColor('--vscode-charts-purple', '#b180d7'),
      themeColor('--vscode-charts-red', '#f14c4c'),
      themeColor('--vscode-charts-yellow', '#cca700'),
    ],
    font: `${parseInt(size, 10) - 1 || 12}px ${family}`,
  };
}

/** A y axis in bytes; on a log scale only powers of ten are labelled. */
export function byteAxis(t: ChartTheme, log = false): uPlot.Axis {
  return {
    stroke: t.foreground,
    font: t.font,
    grid: { stroke: t.grid, width: 1 },
    ticks: { stroke: t.grid, width: 1 },
    size: 72,
    values: (_u, vals) =>
      vals.map((v) =>
        v === null || (log && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) > 1e-9) ? '' : formatBytes(v),
      ),
  };
}

const SECOND_STEPS = [
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  4 * 3600,
  6 * 3600,
  12 * 3600,
  86400,
  2 * 86400,
  7 * 86400,
];

/** A time axis in whole seconds and the viewer's clock time (uPlot's default shows milliseconds for short spans). */
export function timeAxis(t: ChartTheme): uPlot.Axis {
  return {
    stroke: t.foreground,
    font: t.font,
    grid: { stroke: t.grid, width: 1 },
    ticks: { stroke: t.grid, width: 1 },
    space: 90,
    incrs: SECOND_STEPS,
    values: (u, splits) => {
      const min = u.scales.x.min ?? 0;
      const max = u.scales.x.max ?? 0;
      const withDate = max - min > 86400;
      return splits.map((s) => {
        const d = new Date(s * 1000);
        return withDate
          ? `${d.toLocaleDateString()} ${d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`
          : d.toLocaleTimeString();
      });
    },
  };
}

export function plainAxis(t: ChartTheme, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke: t.foreground,
    font: t.font,
    grid: { stroke: t.grid, width: 1 },
    ticks: { stroke: t.grid, width: 1 },
    ...extra,
  };
}

/** Calls `fn` when VS Code switches theme (it changes the body's class and the CSS variables). */
export function onThemeChange(fn: () => void): void {
  let last = document.body.className;
  new MutationObserver(() => {
    if (document.body.className !== last) {
      last = document.body.className;
      fn();
    }
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/** Keeps a chart as wide as its container. */
export function followWidth(container: HTMLElement, chart: () => uPlot | undefined, height: number): ResizeObserver {
  const ro = new ResizeObserver(() => {
    const c = chart();
    const w = Math.floor(container.clientWidth);
    if (c && w > 0 && w !== c.width) c.setSize({ width: w, height });
  });
  ro.observe(container);
  return ro;
}

export { uPlot };
