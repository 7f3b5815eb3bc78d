import blessed from 'blessed';
import type lineModule from 'blessed-contrib/lib/widget/charts/line';
import type { DetailsCharts, Rect } from './layout';
import { axisMax, bitrateSeries, presenceSeries, Y_LABELS } from './chart-series';
import type { WindowRow } from '../store/view-types';

type Color = lineModule.Color;

/** P(person) sits on a fixed axis: 0..1 in steps of 0.25, one step of headroom (see axisMax). */
const PRESENCE_AXIS_MAX = 1.25;

/**
 * Cells of a chart's width taken by contrib itself: the border (2), the canvas margin (6 cells:
 * it draws on width × 2 − 12 braille dots) and the y labels (5): one point per cell left.
 */
const CHART_CHROME = 13;

/**
 * The blessed-contrib line charts of the details view: P(person) with the final prediction, and
 * the bitrate, drawn over the blank rows the details overlay leaves for them. They exist only
 * while the details view is open, so the main screen's refresh and idle cost stay as they were.
 */
export class DetailsChartsView {
  private widgets: blessed.Widgets.BoxElement[] = [];
  private shownRects = '';
  private shownWindows: readonly WindowRow[] | null = null;
  private line: typeof lineModule | null = null;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly color: boolean,
  ) {}

  /** Draws the charts of `windows` in `rects`, or removes them (null); rebuilt only when either changed. */
  show(rects: DetailsCharts | null, windows: readonly WindowRow[]): void {
    if (rects === null) {
      this.clear();
      return;
    }
    const key = JSON.stringify(rects);
    if (key === this.shownRects && windows === this.shownWindows) return;
    this.clear();
    this.shownRects = key;
    this.shownWindows = windows;
    // contrib sizes its canvas when the chart is attached, so a new size or new data means a new chart
    this.presenceChart(rects.presence, windows);
    this.bitrateChart(rects.bitrate, windows);
  }

  clear(): void {
    for (const w of this.widgets) w.destroy();
    this.widgets = [];
    this.shownRects = '';
    this.shownWindows = null;
  }

  private paint(c: Color): Color {
    return this.color ? c : 'normal';
  }

  /** A coloured word in a chart title, its legend; NO_COLOR leaves the words plain. */
  private legend(text: string, c: Color): string {
    return this.color ? `{${c}-fg}${text}{/${c}-fg}` : text;
  }

  private presenceChart(r: Rect, windows: readonly WindowRow[]): void {
    const series = presenceSeries(windows, points(r));
    const title = ` ${this.legend('P(person)', 'green')}, ${this.legend('final prediction', 'cyan')} 0/1 `;
    if (!series) {
      this.message(r, title, 'No predictions yet, or no model.');
      return;
    }
    this.chart(r, title, PRESENCE_AXIS_MAX, [
      { title: 'P(person)', x: series.x, y: series.y.probability, style: { line: this.paint('green') } },
      { title: 'final', x: series.x, y: series.y.final, style: { line: this.paint('cyan') } },
    ]);
  }

  private bitrateChart(r: Rect, windows: readonly WindowRow[]): void {
    const series = bitrateSeries(windows, points(r));
    if (!series) {
      this.message(r, ' bitrate ', 'No windows for this flow yet.');
      return;
    }
    const title = ` ${this.legend('bitrate', 'yellow')}, ${series.unit.name} `;
    this.chart(r, title, axisMax(Math.max(...series.y.bitrate)), [
      { title: 'bitrate', x: series.x, y: series.y.bitrate, style: { line: this.paint('yellow') } },
    ]);
  }

  private chart(r: Rect, label: string, maxY: number, data: lineModule.Series[]): void {
    // loaded on the first details view: most sessions never open one
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.line ??= require('blessed-contrib/lib/widget/charts/line') as typeof lineModule;
    const chart = this.line({
      ...place(r),
      label,
      tags: true,
      border: { type: 'line' },
      minY: 0,
      maxY,
      numYLabels: Y_LABELS,
      showLegend: false,
      style: { line: this.paint('green'), text: 'normal', baseline: 'normal', ...this.frameStyle() },
    });
    this.add(chart);
    chart.setData(data);
  }

  private message(r: Rect, label: string, text: string): void {
    this.add(
      blessed.box({
        ...place(r),
        label,
        tags: true,
        border: { type: 'line' },
        content: ` ${text}`,
        style: this.frameStyle(),
      }),
    );
  }

  private frameStyle(): { border: Record<string, string>; label: Record<string, unknown> } {
    return this.color ? { border: { fg: 'cyan' }, label: { bold: true } } : { border: {}, label: { bold: true } };
  }

  private add(w: blessed.Widgets.BoxElement): void {
    this.screen.append(w);
    this.widgets.push(w);
  }
}

function place(r: Rect): { left: number; top: number; width: number; height: number } {
  return { left: r.x, top: r.y, width: r.width, height: r.height };
}

/** Points worth drawing across a chart: one per cell of its plot area. */
function points(r: Rect): number {
  return Math.max(2, r.width - CHART_CHROME);
}
