import type { LabelLine } from './labels';
import type { ViewReader } from './view-reader';
import { drain, initialState, update, wantedIds } from './state';
import type { InitOptions, UiEvent, UiState } from './ui-state';

/** How many windows the details view loads; the sparkline needs only one per screen column. */
const DETAILS_WINDOWS = 2000;

/**
 * The UI without the terminal: the state, the database reader, and the reads each change of state
 * calls for (a new order when the filter or sort changes, the rows that scrolled into sight, the
 * selected flow's windows, search hits). The terminal edge feeds it events and paints its state;
 * tests drive it directly on a real database.
 */
export class Session {
  state: UiState;
  private queried = -1;
  private searched: string | null = null;
  private wasPaused = false;

  constructor(
    private readonly reader: ViewReader,
    init: InitOptions,
    /** writes closed label intervals; a thrown error is shown in the status bar */
    private readonly writeLabels: (lines: LabelLine[]) => void,
  ) {
    this.state = initialState(init);
  }

  /** The periodic look at the database: reads only when something was committed since the last look. */
  refresh(): boolean {
    if (!this.reader.changed()) return false;
    this.query(false);
    this.follow();
    this.carryOut(); // a flow that ended closes its live label
    return true;
  }

  /** Applies one event and what it calls for; true when the user asked to quit. */
  dispatch(e: UiEvent): boolean {
    const hadDetails = this.state.overlay === 'details';
    this.apply(e);
    this.follow();
    // the details view shows a longer history than the sparkline loaded
    if (!hadDetails && this.state.overlay === 'details') this.loadWindows(true);
    return this.carryOut();
  }

  /** Writes the label lines the state queued; true when it asked to quit. */
  private carryOut(): boolean {
    const [effects, rest] = drain(this.state);
    this.state = rest;
    const lines = effects.flatMap((fx) => (fx.kind === 'label' ? [fx.line] : []));
    if (lines.length > 0) {
      try {
        this.writeLabels(lines);
      } catch (err) {
        this.apply({
          type: 'notice',
          text: `cannot write labels to ${this.state.labelsPath}: ${(err as Error).message}`,
        });
      }
    }
    return effects.some((fx) => fx.kind === 'quit');
  }

  private apply(e: UiEvent): void {
    this.state = update(this.state, e);
  }

  private query(asked: boolean): void {
    this.queried = this.state.queryVersion;
    this.apply({
      type: 'data',
      snapshot: this.reader.read({ patterns: this.state.patterns, sort: this.state.sort }),
      asked,
    });
    // paused, the rows on screen keep the values they had
    if (!this.state.paused || asked)
      this.apply({ type: 'rows', rows: this.reader.rows(wantedIds(this.state)), replace: true });
    this.searched = null;
    this.loadWindows(true);
  }

  private follow(): void {
    if (this.state.queryVersion !== this.queried) this.query(true);
    if (this.wasPaused && !this.state.paused) {
      this.apply({ type: 'rows', rows: this.reader.rows(wantedIds(this.state)), replace: true });
      this.loadWindows(true);
    }
    this.wasPaused = this.state.paused;
    const term = this.state.overlay === 'search' ? this.state.searchInput : this.state.searchTerm;
    if (term !== '' && term !== this.searched) {
      this.searched = term;
      this.apply({ type: 'searchHits', term, ids: this.reader.search(term) });
    }
    const missing = wantedIds(this.state).filter((id) => !this.state.rows.has(id));
    if (missing.length > 0) this.apply({ type: 'rows', rows: this.reader.rows(missing), replace: false });
    this.loadWindows(false);
  }

  private loadWindows(force: boolean): void {
    const id = this.state.selectedId;
    if (id === null || (!force && id === this.state.windowsFor)) return;
    const limit = this.state.overlay === 'details' ? DETAILS_WINDOWS : Math.max(1, this.state.width);
    this.apply({ type: 'windows', flowId: id, rows: this.reader.recentWindows(id, limit) });
  }
}
