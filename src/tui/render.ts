import path from 'node:path';
import { formatDateTime, humanCount } from './columns';
import { MENU_BAR, MIN_HEIGHT, MIN_WIDTH, mainLayout, tooSmall } from './layout';
import { escapeTags, sparkRows } from './render-text';
import { fittedColumns, selectedRow } from './state';
import type { UiState } from './ui-state';
import { fit } from './table';
import type { Meta, SensorStatus } from './types';

/**
 * The main screen as `height` lines of blessed-tagged text, each `width` cells wide: a pure
 * function of the state (overlays are drawn over it by overlays.ts).
 */
export function renderScreen(s: UiState): string[] {
  if (tooSmall(s.width, s.height)) return tooSmallScreen(s);
  const L = mainLayout(s.height);
  const lines: string[] = new Array<string>(s.height).fill('');
  lines[L.menuY] = menuBar(s);
  const body = s.view.length > 0 ? tableLines(s) : emptyLines(s, L.tableRows + 1);
  for (let i = 0; i < body.length && i <= L.tableRows; i++) lines[L.headerY + i] = body[i];
  const spark = sparkLines(s);
  lines[L.sparkTitleY] = spark[0];
  lines[L.sparkPresenceY] = spark[1];
  lines[L.sparkBitrateY] = spark[2];
  lines[L.statusY] = bar(s, statusLine(s));
  lines[L.status2Y] = status2(s);
  return lines;
}

function bar(s: UiState, text: string): string {
  const t = escapeTags(fit(text, s.width));
  return s.color ? `{white-fg}{blue-bg}${t}{/blue-bg}{/white-fg}` : `{inverse}${t}{/inverse}`;
}

function tooSmallScreen(s: UiState): string[] {
  const msg = [
    `Terminal too small: ${s.width}x${s.height}.`,
    `spymate needs at least ${MIN_WIDTH}x${MIN_HEIGHT}.`,
    'Enlarge the window, or press q to quit.',
  ];
  const lines = new Array<string>(s.height).fill('');
  const y0 = Math.max(0, Math.floor((s.height - msg.length) / 2));
  msg.forEach((m, i) => {
    if (y0 + i < s.height) lines[y0 + i] = escapeTags(fit(m, s.width));
  });
  return lines;
}

function menuBar(s: UiState): string {
  let text = ' '.repeat(s.width);
  for (const m of MENU_BAR) text = text.slice(0, m.x) + m.label + text.slice(m.x + m.label.length);
  const title = ' spymate: video calls and who is on camera ';
  const x = Math.max(16, s.width - title.length);
  if (x + title.length <= s.width) text = text.slice(0, x) + title + text.slice(x + title.length);
  return bar(s, text.slice(0, s.width));
}

function presenceCell(s: UiState, presence: string, cell: string): string {
  const t = escapeTags(cell);
  if (!s.color) return t;
  if (presence === 'person') return `{green-fg}${t}{/green-fg}`;
  if (presence === 'background') return `{cyan-fg}${t}{/cyan-fg}`;
  if (presence === 'camera-off') return `{yellow-fg}${t}{/yellow-fg}`;
  return t;
}

function tableLines(s: UiState): string[] {
  const { shown } = fittedColumns(s);
  const L = mainLayout(s.height);
  const header = shown
    .map((c) => {
      const cell = escapeTags(fit(c.def.name, c.width, c.def.align));
      return c.def === s.sort.column ? `{underline}${cell}{/underline}` : cell;
    })
    .join(' ');
  const headerWidth = shown.length === 0 ? 0 : shown[shown.length - 1].x + shown[shown.length - 1].width;
  const out = [`{bold}${header}${' '.repeat(Math.max(0, s.width - headerWidth))}{/bold}`];
  for (const id of s.view.slice(s.top, s.top + L.tableRows)) {
    const row = s.rows.get(id);
    const selected = id === s.selectedId;
    if (!row) {
      // read with the next look at the database, a moment from now
      out.push(selected ? `{inverse}${escapeTags(fit(id, s.width))}{/inverse}` : escapeTags(fit(id, s.width)));
      continue;
    }
    let used = 0;
    const cells = shown.map((c) => {
      const text = fit(c.def.text(row, s.ctx), c.width, c.def.align);
      used = c.x + c.width;
      // colour inside the selection bar would hide it; the bar is the selection's colour
      return c.def.name === 'presence' && !selected ? presenceCell(s, row.presence, text) : escapeTags(text);
    });
    const line = cells.join(' ') + ' '.repeat(Math.max(0, s.width - used));
    out.push(selected ? `{inverse}${line}{/inverse}` : line);
  }
  return out;
}

function emptyLines(s: UiState, rows: number): string[] {
  const flows = s.snapshot.total;
  const meta = s.snapshot.meta;
  const msg =
    flows > 0
      ? [
          `No flow matches the filter ${s.patterns.map((p) => p.text).join(' ')} (${flows} hidden).`,
          'Press f to change or clear it.',
        ]
      : [
          'Waiting for calls...',
          '',
          `Watching ${s.sourceLabel}. Video calls appear here as soon as the rules pick a flow.`,
          meta.packets !== null
            ? `${meta.packets} packets and ${meta.flows ?? 0} flows seen so far, none a call yet.`
            : '',
          s.snapshot.ok ? '' : (s.snapshot.problem ?? ''),
          '',
          'Press ? for the keys, q to quit.',
        ];
  const out = new Array<string>(rows).fill('');
  const y0 = Math.max(0, Math.floor((rows - msg.length) / 2));
  msg.forEach((m, i) => {
    if (y0 + i < rows) {
      const pad = Math.max(0, Math.floor((s.width - m.length) / 2));
      out[y0 + i] = escapeTags(fit(' '.repeat(pad) + m, s.width).trimEnd());
    }
  });
  return out;
}

function sparkLines(s: UiState): [string, string, string] {
  const row = selectedRow(s);
  const w = s.width;
  if (!row) return [escapeTags(`-- no flow selected ${'-'.repeat(w)}`.slice(0, w)), '', ''];
  const certainty = row.certainty === null ? '' : ` ${Math.round(row.certainty)}%`;
  const title = `-- ${row.flow_id}  ${row.src_ip}:${row.src_port} <-> ${row.des_ip}:${row.des_port}  ${row.app}  ${row.presence}${certainty} `;
  return [escapeTags((title + '-'.repeat(w)).slice(0, w)), ...sparkRows(s, row, w)];
}

function orDash(v: number | null, show: (n: number) => string = String): string {
  return v === null ? '-' : show(v);
}

/** `file:/long/path/call.pcapng` → `file:call.pcapng`: the status bar has no room for paths. */
function shortSource(label: string): string {
  const m = /^(file|records):(.*)$/.exec(label);
  return m ? `${m[1]}:${path.basename(m[2])}` : label;
}

/**
 * What is being watched and how it goes: source (and replay position), packets/s, drops, flows,
 * calls, model. Totals stay live while paused and whole while a filter hides rows. A long source
 * name is cut so that the counters still show.
 */
function statusLine(s: UiState): string {
  const meta: Meta = (s.pending ?? s.snapshot).meta;
  const pos = meta.replayPosition === null ? '' : ` ${Math.round(meta.replayPosition * 100)}%`;
  const rest = [
    `${orDash(meta.pps, (n) => humanCount(n))} pkt/s`,
    `drops ${orDash(meta.drops)}`,
    `flows ${orDash(meta.flows)}`,
    `calls ${orDash(meta.calls ?? (s.snapshot.ok ? s.snapshot.total : null))}`,
    `model ${(meta.model ?? s.modelName).replace(/\.json$/, '')}`,
  ].join('  ');
  const label = s.snapshot.sensors ? sensorsText(s.snapshot.sensors) : shortSource(s.sourceLabel);
  const source = fit(label, Math.max(8, s.width - rest.length - pos.length - 3)).trimEnd();
  return ` ${source}${pos}  ${rest}`;
}

/**
 * The view over many sensors: each sensor and the time of its last report; one that stopped
 * reporting while running says QUIET and for how long, one that ended says so.
 */
export function sensorsText(sensors: readonly SensorStatus[]): string {
  if (sensors.length === 0) return 'no sensor yet';
  const one = (x: SensorStatus): string => {
    if (x.state === 'stopped') return `${x.name} stopped ${formatDateTime(x.reportedAt).slice(11)}`;
    if (x.quiet) return `${x.name} QUIET ${humanDuration(x.agoS)}`;
    return `${x.name} ${formatDateTime(x.reportedAt).slice(11)}`;
  };
  // the quiet ones first: what needs seeing must not be cut off at the right
  const order = [...sensors].sort((a, b) => Number(b.quiet) - Number(a.quiet));
  return order.map(one).join(', ');
}

function humanDuration(s: number): string {
  return s < 120 ? `${Math.round(s)}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function markText(s: UiState): string | null {
  if (s.marks.length === 0) return null;
  const sel = s.marks.find((m) => m.flowId === s.selectedId);
  const m = sel ?? s.marks[s.marks.length - 1];
  const more = s.marks.length > 1 ? ` +${s.marks.length - 1}` : '';
  return `MARK ${m.label} since ${formatDateTime(m.since).slice(11)}${sel ? '' : ` on ${m.flowId}`}${more}`;
}

/** The UI's own state, what needs seeing first (paused, frozen, marking) leading. */
function status2(s: UiState): string {
  const w = s.width;
  if (s.overlay === 'search') return escapeTags(fit(` /${s.searchInput}_   (Enter keeps, Esc cancels)`, w));
  const hidden = fittedColumns(s).hidden;
  const total = s.snapshot.total;
  const parts = [
    s.paused ? 'PAUSED' : null,
    s.frozen ? 'FROZEN' : null,
    markText(s),
    s.message,
    s.patterns.length > 0
      ? `filter ${s.patterns.map((p) => p.text).join(',')} (${s.view.length}/${total})`
      : `rows ${total}`,
    `sort ${s.sort.column.name}${s.sort.desc ? ' desc' : ' asc'}`,
    `every ${s.refreshS}s`,
    hidden.length > 0 ? `${hidden.length} col hidden (<- ->): ${hidden.map((c) => c.name).join(',')}` : null,
    '? help',
  ].filter((p): p is string => p !== null);
  const line = escapeTags(fit(` ${parts.join(' | ')}`, w));
  return s.paused && s.color ? `{yellow-fg}${line}{/yellow-fg}` : line;
}
