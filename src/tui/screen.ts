import blessed from 'blessed';
import { DetailsChartsView } from './details-charts';
import { overlayView } from './overlays';
import { renderScreen } from './render';
import type { UiEvent, UiState } from './ui-state';

interface MouseData {
  x: number;
  y: number;
  action: string;
}

/**
 * The blessed edge: turns terminal input into UiEvents and paints the pure render of a UiState.
 * One full-screen box carries the main screen; one bordered box carries whichever overlay is open,
 * and the details overlay gets blessed-contrib charts drawn over it (details-charts.ts).
 */
export class TerminalScreen {
  private readonly screen: blessed.Widgets.Screen;
  private readonly main: blessed.Widgets.BoxElement;
  private readonly overlay: blessed.Widgets.BoxElement;
  private readonly charts: DetailsChartsView;
  private destroyed = false;

  constructor(dispatch: (e: UiEvent) => void, opts: { color: boolean; unicode: boolean }) {
    this.screen = blessed.screen({
      smartCSR: true,
      fullUnicode: false,
      forceUnicode: opts.unicode,
      title: 'spymate',
      warnings: false,
      autoPadding: false,
    });
    // In a UTF-8 terminal draw borders with Unicode line characters rather than the VT100
    // alternate charset, as ncurses does with NCURSES_NO_UTF8_ACS: same look, plain text in
    // scrollback and in tmux capture-pane.
    if (opts.unicode) (this.screen.program as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
    this.main = blessed.box({ top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false });
    this.overlay = blessed.box({
      tags: true,
      wrap: false,
      hidden: true,
      border: { type: 'line' },
      style: opts.color ? { border: { fg: 'cyan' }, label: { bold: true } } : { label: { bold: true } },
    });
    this.screen.append(this.main);
    this.screen.append(this.overlay);
    this.charts = new DetailsChartsView(this.screen, opts.color);
    this.screen.program.hideCursor();

    this.screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      dispatch({
        type: 'key',
        key: { name: key?.name, ch, ctrl: key?.ctrl, shift: key?.shift },
        now: Date.now() / 1000,
      });
    });
    this.screen.enableMouse();
    this.screen.program.on('mouse', (data: MouseData) => {
      if (data.action === 'mousedown') dispatch({ type: 'click', x: data.x, y: data.y, now: Date.now() / 1000 });
      else if (data.action === 'wheelup') dispatch({ type: 'wheel', delta: -3 });
      else if (data.action === 'wheeldown') dispatch({ type: 'wheel', delta: 3 });
    });
    this.screen.on('resize', () => dispatch({ type: 'resize', width: this.width, height: this.height }));
  }

  get width(): number {
    return Number(this.screen.width);
  }

  get height(): number {
    return Number(this.screen.height);
  }

  /** Colours the terminal has (terminfo): grey, for ended calls, needs 16 (with 8, blessed would draw it black). */
  get colors(): number {
    return Number((this.screen as unknown as { tput: { colors: number } }).tput.colors) || 8;
  }

  paint(s: UiState): void {
    if (this.destroyed) return;
    this.main.setContent(renderScreen(s).join('\n'));
    const ov = overlayView(s);
    if (ov) {
      this.overlay.left = ov.rect.x;
      this.overlay.top = ov.rect.y;
      this.overlay.width = ov.rect.width;
      this.overlay.height = ov.rect.height;
      this.overlay.setLabel(` ${ov.title} `);
      this.overlay.setContent(ov.lines.join('\n'));
      this.overlay.show();
    } else {
      this.overlay.hide();
    }
    this.charts.show(ov?.charts ?? null, s.windowsFor === s.selectedId ? s.windows : []);
    this.screen.render();
  }

  /** Leaves the alternate screen and shows the cursor again: the terminal as it was. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.screen.destroy();
  }
}
