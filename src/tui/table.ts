import type { ColumnContext, ColumnDef } from './columns';
import type { FlowRow } from '../store/view-types';

export interface SortSpec {
  column: ColumnDef;
  desc: boolean;
}

export interface FittedColumn {
  def: ColumnDef;
  width: number;
  /** first screen column of the cell */
  x: number;
}

export interface FittedColumns {
  shown: FittedColumn[];
  /** asked for but too wide for the terminal: said in the status bar */
  hidden: ColumnDef[];
}

/** Cut to `width` with an ellipsis, or pad to it. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/**
 * Widths from the rows on screen (between each column's min and max), then columns kept in the
 * order asked while they fit `width`, one space apart. The rest are reported as hidden.
 */
export function fitColumns(
  columns: readonly ColumnDef[],
  rows: readonly FlowRow[],
  ctx: ColumnContext,
  width: number,
): FittedColumns {
  const shown: FittedColumn[] = [];
  const hidden: ColumnDef[] = [];
  let x = 0;
  for (const def of columns) {
    let w = def.minWidth;
    if (def.maxWidth > w) for (const r of rows) w = Math.max(w, def.text(r, ctx).length);
    w = Math.min(w, def.maxWidth);
    const need = (shown.length > 0 ? 1 : 0) + w;
    if (hidden.length === 0 && x + need <= width) {
      const start = x + (shown.length > 0 ? 1 : 0);
      shown.push({ def, width: w, x: start });
      x = start + w;
    } else if (hidden.length === 0 && shown.length === 0 && width >= def.minWidth) {
      // a single column wider than the terminal is still shown, cut
      shown.push({ def, width, x: 0 });
      x = width;
    } else {
      hidden.push(def);
    }
  }
  return { shown, hidden };
}

/**
 * The order the table shows: the database's order, or, while frozen, the frozen order with flows
 * that appeared since appended (in the database's order). Returns the frozen order extended.
 */
export function applyFreeze(
  order: readonly string[],
  frozen: readonly string[] | null,
): { view: string[]; frozen: string[] | null } {
  if (frozen === null) return { view: order.slice(), frozen: null };
  const present = new Set(order);
  const known = new Set(frozen);
  const added = order.filter((id) => !known.has(id));
  return {
    view: frozen.filter((id) => present.has(id)).concat(added),
    frozen: added.length === 0 ? frozen.slice() : frozen.concat(added),
  };
}
