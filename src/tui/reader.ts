import { SqliteReader } from '../store/sqlite-reader';
import type { FlowRow, Snapshot, WindowRow } from '../store/view-types';
import { matchesAny } from './filter';
import type { ViewQuery, ViewReader } from './view-reader';

/**
 * The UI's reader of an SQLite database (the SQL is the store's, store/sqlite-reader.ts): the
 * display filter becomes the predicate SQLite calls for each row, the sort column its sort key.
 */
export class DbReader implements ViewReader {
  private readonly db: SqliteReader;

  constructor(dbPath: string) {
    this.db = new SqliteReader(dbPath);
  }

  changed(): boolean {
    return this.db.changed();
  }

  read(q: ViewQuery): Snapshot {
    const patterns = q.patterns;
    return this.db.read({
      run: q.run,
      filter: patterns.length === 0 ? null : { matches: (src, des) => matchesAny(patterns, src, des) },
      sort: { key: q.sort.column.sort, desc: q.sort.desc },
    });
  }

  rows(ids: readonly string[]): FlowRow[] {
    return this.db.rows(ids);
  }

  search(term: string): string[] {
    return this.db.search(term);
  }

  recentWindows(flowId: string, limit: number): WindowRow[] {
    return this.db.recentWindows(flowId, limit);
  }

  close(): void {
    this.db.close();
  }
}
