/**
 * The UI's reader over the PostgreSQL view (store/pg/view.ts). The UI asks synchronously, as it
 * asks SQLite; a server answers asynchronously. So this reader answers every call from what its
 * last round trip fetched, notes what it was asked that it did not have, and runs rounds in the
 * background: one every refresh interval, and one at once when something new is asked (a new
 * sort, rows scrolled into sight, another flow's windows). Each round fetches, in order, the
 * snapshot for the last query asked, the rows asked since the last round plus the top of the new
 * order, the windows and the search asked, then calls `onData`: the UI refreshes and finds it all.
 */
import { emptySnapshot } from '../store/view-types';
import type { PgView, ViewFilter, ViewOrder } from '../store/pg/view';
import { rowKey, type FlowRow, type Snapshot, type WindowRow } from './types';
import type { ViewQuery, ViewReader } from './view-reader';

/** Rows fetched with each round beyond those asked: a screenful at the top of the order. */
const PREFETCH = 200;
/**
 * Window histories longer than a screen is wide are the details view's, which shows features; the
 * sparklines ask for one window per column and need none (they are two thirds of a round's bytes).
 */
const SPARKLINE_MAX = 1000;

/** The UI's filter and sort in the store's terms. */
export function viewQueryToPg(q: ViewQuery): { filter: ViewFilter; order: ViewOrder } {
  const filter = { v4: [] as Array<{ value: number; mask: number }>, v6: [] as string[], sensors: [] as string[] };
  for (const p of q.patterns) {
    if (p.kind === 'v4') filter.v4.push({ value: p.value, mask: p.mask });
    else if (p.kind === 'v6') filter.v6.push(p.text.includes('/') ? p.text : `${p.text}/128`);
    else filter.sensors.push(p.text);
  }
  const c = q.sort.column;
  return { filter, order: { sql: c.sql, pg: c.pg, desc: q.sort.desc, text: c.align === 'left' } };
}

function queryKey(q: ViewQuery): string {
  return `${q.sort.column.name}/${q.sort.desc}/${q.patterns.map((p) => p.text).join(',')}`;
}

export class RemoteReader implements ViewReader {
  private snap: Snapshot;
  private snapKey: string | null = null;
  private query: ViewQuery | null = null;
  private readonly rowCache = new Map<string, FlowRow>();
  private askedRows = new Set<string>();
  private triedRows = new Set<string>();
  private win: { key: string; limit: number; rows: WindowRow[] } | null = null;
  private askedWin: { key: string; limit: number } | null = null;
  private found: { term: string; ids: string[] } | null = null;
  private askedSearch: string | null = null;
  private fresh = false;
  private running = false;
  private again = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly view: PgView,
    private readonly refreshS: number,
    private readonly onData: () => void,
    waiting: string,
  ) {
    this.snap = emptySnapshot(waiting);
  }

  /** Starts the rounds: now, then every refresh interval. */
  start(): void {
    this.round();
    this.timer = setInterval(() => this.round(), Math.max(50, this.refreshS * 1000));
  }

  changed(): boolean {
    const f = this.fresh;
    this.fresh = false;
    return f;
  }

  read(q: ViewQuery): Snapshot {
    this.query = q;
    if (queryKey(q) !== this.snapKey) this.round();
    return this.snap;
  }

  rows(ids: readonly string[]): FlowRow[] {
    const out: FlowRow[] = [];
    let missing = false;
    for (const id of ids) {
      this.askedRows.add(id);
      const r = this.rowCache.get(id);
      if (r) out.push(r);
      else if (!this.triedRows.has(id)) missing = true;
    }
    if (missing) this.round();
    return out;
  }

  search(term: string): string[] {
    this.askedSearch = term;
    if (this.found?.term === term) return this.found.ids;
    this.round();
    return [];
  }

  recentWindows(flowId: string, limit: number): WindowRow[] {
    this.askedWin = { key: flowId, limit };
    if (this.win && this.win.key === flowId && this.win.limit === limit) return this.win.rows;
    this.round();
    // the previous answer for this flow, while a longer history is on its way
    return this.win?.key === flowId ? this.win.rows : [];
  }

  /** A round now; resolves when it, and any asked for meanwhile, is in. */
  sync(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.round();
    });
  }

  /** A round now, or right after the one running. */
  private round(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.fetch().finally(() => {
      this.running = false;
      if (this.again && !this.closed) {
        this.again = false;
        this.round();
      } else {
        for (const resolve of this.waiters.splice(0)) resolve();
      }
    });
  }

  private async fetch(): Promise<void> {
    const q = this.query;
    const asked = this.askedRows;
    this.askedRows = new Set();
    if (q) {
      const { filter, order } = viewQueryToPg(q);
      this.snap = await this.view.snapshot(filter, order);
      this.snapKey = queryKey(q);
    }
    try {
      const want = new Set([...asked, ...this.snap.order.slice(0, PREFETCH)]);
      const rows = await this.view.rows([...want]);
      this.rowCache.clear();
      for (const r of rows) this.rowCache.set(rowKey(r), r);
      this.triedRows = want;
      const w = this.askedWin;
      if (w) this.win = { ...w, rows: await this.view.windows(w.key, w.limit, w.limit > SPARKLINE_MAX) };
      const term = this.askedSearch;
      if (term) this.found = { term, ids: await this.view.search(term) };
    } catch {
      // the snapshot says what is wrong; rows and windows keep their last answer
    }
    this.fresh = true;
    if (!this.closed) this.onData();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const resolve of this.waiters.splice(0)) resolve();
    void this.view.close();
  }
}
