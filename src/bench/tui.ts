import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import blessed from 'blessed';
import { resolveColumns } from '../tui/columns';
import { parseIpPattern } from '../tui/filter';
import { bitrateSeries, presenceSeries } from '../tui/chart-series';
import { DetailsChartsView } from '../tui/details-charts';
import { detailsLayout } from '../tui/layout';
import { overlayView } from '../tui/overlays';
import { DbReader } from '../tui/reader';
import { renderScreen } from '../tui/render';
import { Session } from '../tui/session';
import { FixtureDb, flowRow, replayMeta, windowRows, T0 } from '../testkit/fixture-db';
import { hasTmux, Tmux } from '../testkit/tmux';
import type { BenchSection } from './bench';

/**
 * The TUI's targets (issue 6): a refresh (query + render model) ≤ 50 ms with 10 000 flows in the
 * database, and idle CPU ≤ 2 % at --refresh 1, measured on the real UI in tmux.
 */

const FLOWS = 10_000;
const RUNS = 30;

function fill(file: string): FixtureDb {
  const rows = Array.from({ length: FLOWS }, (_, i) =>
    flowRow({
      flow_id: `flow${String(i).padStart(6, '0')}`,
      src_ip: `10.${(i >> 8) & 255}.${i & 255}.2`,
      bytes: (i * 7919) % 100_000,
    }),
  );
  // the flow selected first (most bytes) has a long history, for the details view
  const top = rows.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return new FixtureDb(file)
    .meta(replayMeta({ flows: FLOWS, calls: FLOWS }))
    .flows(rows)
    .windows('flow000000', windowRows(400, T0))
    .windows(top.flow_id, windowRows(2000, T0));
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function stats(xs: number[]): { median: number; max: number } {
  const s = xs.slice().sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}

/**
 * Refreshes as the app does them (Session.refresh: read, rows on screen, windows of the selected
 * flow) plus the render model, each after a commit by the writer (not timed) so none is skipped.
 */
function timeRefreshes(db: FixtureDb, session: Session): { median: number; max: number; cpu: number } {
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    db.meta({ clock: T0 + 100 + i });
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    if (!session.refresh()) throw new Error('the refresh did not read the database');
    renderScreen(session.state);
    if (i === 0) continue; // warm-up: statement preparation, JIT
    times.push(ms(t0));
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ...stats(times), cpu: stats(cpu).median };
}

/**
 * The details view of a flow with 2000 windows: each refresh reads them again and shapes the
 * text and the chart series (blessed-contrib's drawing, at the edge, is not in this figure).
 */
function timeDetails(db: FixtureDb, session: Session): { median: number; max: number } {
  db.meta({ clock: T0 + 199 });
  session.refresh();
  session.dispatch({ type: 'key', key: { name: 'enter' }, now: 0 });
  if (session.state.overlay !== 'details') throw new Error('the details view did not open');
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    db.meta({ clock: T0 + 200 + i });
    const t0 = process.hrtime.bigint();
    session.refresh();
    const s = session.state;
    const charts = overlayView(s)?.charts;
    if (!charts || s.windows.length !== 2000) throw new Error('no charts of 2000 windows at 120x30');
    presenceSeries(s.windows, charts.presence.width);
    bitrateSeries(s.windows, charts.bitrate.width);
    if (i > 0) times.push(ms(t0));
  }
  return stats(times);
}

/**
 * The blessed-contrib charts of the details view built and drawn (what the edge does when the
 * windows change), on a blessed screen writing to a stream nobody reads.
 */
function timeChartDrawing(): { median: number; max: number } {
  const output = Object.assign(new PassThrough(), { columns: 120, rows: 30, isTTY: true });
  output.resume();
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const screen = blessed.screen({ input, output, terminal: 'xterm-256color', warnings: false });
  try {
    const view = new DetailsChartsView(screen, true);
    const charts = detailsLayout(120, 30).charts;
    const history = [windowRows(2000, T0), windowRows(2000, T0 + 1)];
    const times: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const t0 = process.hrtime.bigint();
      view.show(charts, history[i % 2]);
      screen.render();
      if (i > 0) times.push(ms(t0));
    }
    return stats(times);
  } finally {
    screen.destroy();
  }
}

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function uiCpu(dbFile: string, seconds: number, writer: (() => void) | null): Promise<number> {
  const term = new Tmux();
  try {
    term.start(
      {
        dbPath: dbFile,
        refreshS: 1,
        columns: [],
        filters: [],
        sourceLabel: 'file:bench.pcapng',
        labelsPath: null,
        modelName: 'bench',
      },
      { width: 120, height: 30 },
    );
    await term.waitFor(/flow0/, 15000);
    const panePid = term.display('#{pane_pid}');
    const pid = Number(execFileSync('pgrep', ['-P', panePid], { encoding: 'utf8' }).trim().split('\n')[0]);
    await new Promise((r) => setTimeout(r, 1000));
    const c0 = cpuSeconds(pid);
    const t0 = Date.now();
    const timer = writer ? setInterval(writer, 500) : null;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    if (timer) clearInterval(timer);
    return (100 * (cpuSeconds(pid) - c0)) / ((Date.now() - t0) / 1000);
  } finally {
    term.kill();
  }
}

export const benchSection: BenchSection = {
  name: 'tui',
  async run(ctx) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-bench-tui-'));
    try {
      const file = path.join(dir, 'tui.db');
      const db = fill(file);
      const reader = new DbReader(file);
      const session = (columns: string[], filters: string[]): Session =>
        new Session(
          reader,
          {
            width: 120,
            height: 30,
            color: true,
            unicode: true,
            refreshS: 1,
            sourceLabel: 'file:bench.pcapng',
            modelName: 'bench',
            labelsPath: path.join(dir, 'labels.csv'),
            columns: resolveColumns(columns),
            patterns: filters.map((f) => parseIpPattern(f)),
          },
          () => undefined,
        );
      const plain = timeRefreshes(db, session([], []));
      ctx.report(
        `refresh, ${FLOWS} flows (median)`,
        plain.median,
        'ms',
        `max ${plain.max.toFixed(1)} ms, CPU ${plain.cpu.toFixed(1)} ms; target ≤ 50; load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`,
      );
      const filtered = timeRefreshes(db, session([], ['10.1.*', '10.0.0.0/16', '2001:db8::/32']));
      ctx.report(
        `refresh, ${FLOWS} flows, 3 filter patterns (median)`,
        filtered.median,
        'ms',
        `max ${filtered.max.toFixed(1)} ms, CPU ${filtered.cpu.toFixed(1)} ms`,
      );
      const s = session(['srcIP', 'timeOut', 'presenceShare'], []);
      s.dispatch({ type: 'click', x: 1, y: 1, now: 0 }); // sort by srcIP, a text column
      const byText = timeRefreshes(db, s);
      ctx.report(
        `refresh, ${FLOWS} flows, sorted by srcIP (median)`,
        byText.median,
        'ms',
        `max ${byText.max.toFixed(1)} ms, CPU ${byText.cpu.toFixed(1)} ms`,
      );
      const keys: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = process.hrtime.bigint();
        s.dispatch({ type: 'key', key: { name: i % 2 ? 'pagedown' : 'down' }, now: 0 });
        renderScreen(s.state);
        keys.push(ms(t0));
      }
      ctx.report(
        'key press: Down / PgDn (update, rows read, render model)',
        stats(keys).median,
        'ms',
        `max ${stats(keys).max.toFixed(2)} ms`,
      );
      const details = timeDetails(db, session([], []));
      ctx.report(
        'refresh with the details view open (2000 windows, text + chart series)',
        details.median,
        'ms',
        `max ${details.max.toFixed(1)} ms`,
      );
      const drawing = timeChartDrawing();
      ctx.report(
        'details charts built and drawn by blessed-contrib (2000 windows, 120x30)',
        drawing.median,
        'ms',
        `max ${drawing.max.toFixed(1)} ms`,
      );
      reader.close();
      if (!hasTmux()) {
        ctx.report('idle CPU at --refresh 1', NaN, '%', 'skipped: no tmux');
        return;
      }
      const idle = await uiCpu(file, 10, null);
      ctx.report(`idle CPU at --refresh 1, ${FLOWS} flows (10 s)`, idle, '%', 'target ≤ 2');
      let k = 0;
      const busy = await uiCpu(file, 10, () => {
        k++;
        db.flows(
          Array.from({ length: 200 }, (_, i) =>
            flowRow({ flow_id: `flow${String((k * 200 + i) % FLOWS).padStart(6, '0')}`, bytes: k * 1000 + i }),
          ),
        );
      });
      ctx.report(`CPU at --refresh 1, ${FLOWS} flows, 400 upserts/s (10 s)`, busy, '%');
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
