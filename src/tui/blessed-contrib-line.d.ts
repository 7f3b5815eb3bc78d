/**
 * The part of blessed-contrib's line chart the details view uses (the package ships no types).
 * Loaded by its own path: the package index loads every widget, maps and images included.
 */
declare module 'blessed-contrib/lib/widget/charts/line' {
  import type { Widgets } from 'blessed';

  namespace line {
    /** contrib's canvas knows only these colour names; any other prints a broken escape */
    type Color = 'black' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'white' | 'normal';

    interface Series {
      title: string;
      x: string[];
      /** finite values only: a NaN or infinite one makes the line drawing loop without end */
      y: number[];
      style?: { line?: Color };
    }

    interface Options extends Widgets.BoxOptions {
      style?: {
        line?: Color;
        text?: Color;
        baseline?: Color;
        border?: Record<string, string>;
        label?: Record<string, unknown>;
      };
      minY?: number;
      maxY?: number;
      numYLabels?: number;
      showLegend?: boolean;
      xLabelPadding?: number;
      xPadding?: number;
    }

    interface Line extends Widgets.BoxElement {
      /** after the chart is attached to the screen */
      setData(data: Series[]): void;
    }
  }

  function line(options: line.Options): line.Line;
  export = line;
}
