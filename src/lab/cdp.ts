/**
 * Minimal Chrome DevTools Protocol client over `--remote-debugging-pipe` (fd 3 in, fd 4 out,
 * NUL-terminated JSON). A pipe rather than a TCP port because the browsers live in network
 * namespaces whose loopback the lab script cannot reach, and a pipe opens no socket at all.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

interface Pending {
  resolve: (v: any) => void;
  reject: (e: Error) => void;
  method: string;
}

export class CdpPipe extends EventEmitter {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffered = '';
  private closed = false;

  constructor(
    private readonly out: Writable,
    input: Readable,
  ) {
    super();
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => this.onData(chunk));
    input.on('close', () => this.fail(new Error('DevTools pipe closed (browser exited)')));
    out.on('error', (e: Error) => this.fail(e));
  }

  /** Sends one command; `sessionId` targets a page attached with `flatten: true`. */
  send(method: string, params: object = {}, sessionId?: string): Promise<any> {
    if (this.closed) return Promise.reject(new Error(`DevTools pipe closed before ${method}`));
    const id = this.nextId++;
    const msg = JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.out.write(msg + '\0');
    });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let end: number;
    while ((end = this.buffered.indexOf('\0')) >= 0) {
      const text = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 1);
      const msg = JSON.parse(text);
      if (typeof msg.id === 'number') {
        const p = this.pending.get(msg.id);
        if (!p) continue;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result);
      } else if (msg.method) {
        this.emit('event', msg.method, msg.params, msg.sessionId);
      }
    }
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
