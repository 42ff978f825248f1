/**
 * Geometry for horizontal bar charts drawn as inline SVG by the views (no JavaScript, no images).
 * Pure: labels and numbers in, coordinates out. Views pair every chart with a table of the same figures.
 */
export type BarInput = { label: string; value: number | null; valueLabel: string };
export type BarShape = { label: string; valueLabel: string; y: number; width: number; textY: number; isEmpty: boolean };
export type BarChart = { width: number; height: number; labelWidth: number; plotWidth: number; bars: BarShape[]; ticks: { x: number; label: string }[] };

const BAR = 16;
const GAP = 8;
const TOP = 8;
const AXIS = 22;

export function horizontalBarChart(items: readonly BarInput[], options: { max: number; tickStep: number; tickSuffix?: string; labelWidth?: number; plotWidth?: number }): BarChart {
  const labelWidth = options.labelWidth ?? 240;
  const plotWidth = options.plotWidth ?? 420;
  const scale = options.max > 0 ? plotWidth / options.max : 0;
  const bars = items.map((item, i) => {
    const y = TOP + i * (BAR + GAP);
    const value = item.value ?? 0;
    return {
      label: item.label.length > 32 ? `${item.label.slice(0, 31)}…` : item.label,
      valueLabel: item.valueLabel,
      y,
      width: Math.max(0, Math.min(plotWidth, Math.round(value * scale * 10) / 10)),
      textY: y + BAR - 4,
      isEmpty: item.value === null,
    };
  });
  const ticks: { x: number; label: string }[] = [];
  for (let v = 0; v <= options.max; v += options.tickStep) ticks.push({ x: labelWidth + Math.round(v * scale), label: `${v}${options.tickSuffix ?? ''}` });
  return { width: labelWidth + plotWidth + 70, height: TOP + items.length * (BAR + GAP) + AXIS, labelWidth, plotWidth, bars, ticks };
}
