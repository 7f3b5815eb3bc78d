import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { featureBytes, featureValues } from '../../src/store/features-blob';
import { COPY_HEADER, COPY_TRAILER, CopyWriter } from '../../src/store/pg/copy-binary';
import { FlowStates } from '../../src/store/pg/flow-states';
import { RecordQueue, type Chunk } from '../../src/store/pg/record-queue';
import { parsePgUrl, pgpassLookup, redact } from '../../src/store/pg/target';
import { endRec, startRec, windowRec } from '../../src/testkit/records';
import { tempDir } from '../../src/testkit/temp';

const T0 = 1700000000;

test('--store URLs: defaults as psql takes them, the password never shown, sslmode understood', () => {
  const t = parsePgUrl('postgres://alice:s3cret@db.example:6543/calls', {});
  assert.deepEqual(
    [t.host, t.port, t.user, t.database, t.display],
    ['db.example', 6543, 'alice', 'calls', 'postgres://alice@db.example:6543/calls'],
  );
  const d = parsePgUrl('postgresql://bob@[2001:db8::1]', { PGDATABASE: 'x' });
  assert.deepEqual([d.host, d.port, d.database], ['2001:db8::1', 5432, 'x']);
  assert.equal(parsePgUrl('postgres://u@%2Fvar%2Frun%2Fpostgresql/db', {}).host, '/var/run/postgresql');
  assert.deepEqual(parsePgUrl('postgres://u@h/db?sslmode=require', {}).config.ssl, { rejectUnauthorized: false });
  assert.equal(redact('postgres://u:pw@h/db'), 'postgres://u:***@h/db');
  assert.throws(() => parsePgUrl('postgres:///db', {}), /names no host/);
  assert.throws(() => parsePgUrl('mysql://u@h/db', {}), /only postgres:\/\/ URLs/);
});

test('the password: URL, else PGPASSWORD, else a private pgpass file read as libpq reads it', async () => {
  const dir = tempDir('pgpass');
  const file = path.join(dir, 'pgpass');
  fs.writeFileSync(file, '# comment\nother:5432:*:u:no\ndb\\:x:5432:calls:u:pa\\:ss\\\\word\n*:*:*:u:fallback\n', {
    mode: 0o600,
  });
  assert.equal(pgpassLookup({ PGPASSFILE: file }, 'db:x', 5432, 'calls', 'u'), 'pa:ss\\word');
  assert.equal(pgpassLookup({ PGPASSFILE: file }, 'elsewhere', 1, 'y', 'u'), 'fallback');
  fs.chmodSync(file, 0o644);
  assert.equal(pgpassLookup({ PGPASSFILE: file }, 'elsewhere', 1, 'y', 'u'), null, 'a file others can read is ignored');
  const password = parsePgUrl('postgres://u:url@h/db', { PGPASSWORD: 'env' }).config.password as () => Promise<string>;
  assert.equal(await password(), 'url');
  const fromEnv = parsePgUrl('postgres://u@h/db', { PGPASSWORD: 'env' }).config.password as () => Promise<string>;
  assert.equal(await fromEnv(), 'env');
});

test('binary COPY rows: int8 beyond 2^32, NULLs, text and bytea in the layout PostgreSQL reads', () => {
  const w = new CopyWriter(4);
  const features = Float64Array.of(1.5, NaN, -0);
  w.row(4).int8(5_000_000_000).null().textOrNull('é').bytes(featureBytes(features));
  assert.equal(w.rows, 1);
  const b = w.take();
  assert.equal(w.rows, 0);
  assert.equal(b.readInt16BE(0), 4);
  assert.equal(b.readInt32BE(2), 8);
  assert.equal(b.readBigInt64BE(6), 5_000_000_000n);
  assert.equal(b.readInt32BE(14), -1);
  assert.equal(b.readInt32BE(18), 2);
  assert.equal(b.toString('utf8', 22, 24), 'é');
  // bytea: length, then SQLite's BLOB bytes (float64 little-endian)
  assert.equal(b.readInt32BE(24), 24);
  assert.deepEqual([...featureValues(b.subarray(28))], [1.5, NaN, -0]);
  assert.ok(Object.is(b.readDoubleLE(44), -0));
  assert.equal(b.length, 52);
  assert.equal(COPY_HEADER.toString('latin1', 0, 11), 'PGCOPY\n\xff\r\n\0');
  assert.deepEqual([...COPY_TRAILER], [0xff, 0xff]);
});

test('a float8Le field holds the bytes SQLite stores for the same features, bit for bit', () => {
  const values = Float64Array.of(1.5, NaN, -0, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, 1 / 3);
  const b = new CopyWriter(4).row(1).float8Le(values).take();
  assert.equal(b.readInt32BE(2), values.length * 8);
  assert.deepEqual(b.subarray(6), featureBytes(values));
  assert.equal(b.length, 6 + values.length * 8);
});

test('text fields: ASCII, and strings with characters beyond it, in UTF-8 with their byte length', () => {
  const w = new CopyWriter(4);
  const texts = ['10.0.0.1:5000-192.0.2.7:6000-UDP', '', 'café ☎ 𝄞', 'x'.repeat(300) + 'é'];
  for (const t of texts) w.row(1).text(t);
  const b = w.take();
  const seen: string[] = [];
  for (let p = 0; p < b.length;) {
    const n = b.readInt32BE(p + 2);
    assert.equal(n, Buffer.byteLength(texts[seen.length]));
    seen.push(b.toString('utf8', p + 6, p + 6 + n));
    p += 6 + n;
  }
  assert.deepEqual(seen, texts);
});

test('taken rows stay as written when the writer hands its buffer over, and hold little more memory than their bytes', () => {
  const w = new CopyWriter(1024);
  const seen: string[] = [];
  let handedOver = 0;
  for (let batch = 0; batch < 6; batch++) {
    const rows = batch === 3 ? 3 : 60; // one small batch among large ones
    for (let i = 0; i < rows; i++) w.row(1).text(`batch ${batch} row ${i} ${'x'.repeat(100)}`);
    const b = w.take();
    // decode: int16 field count, int32 length, the text
    for (let p = 0; p < b.length;) {
      const n = b.readInt32BE(p + 2);
      seen.push(b.toString('utf8', p + 6, p + 6 + n));
      p += 6 + n;
    }
    if (b.buffer.byteLength > b.length) handedOver++;
    if (b.length >= 4096)
      assert.ok(b.buffer.byteLength * 3 <= b.length * 4, `${b.buffer.byteLength} bytes held for ${b.length}`);
    w.row(1).text('next'); // the writer goes on in a buffer of its own: what was taken does not change
    assert.equal(b.toString('utf8', 6, 11), `batch`);
    w.take();
  }
  assert.equal(seen.length, 5 * 60 + 3);
  assert.equal(seen[61], 'batch 1 row 1 ' + 'x'.repeat(100));
  assert.equal(seen[seen.length - 1], 'batch 5 row 59 ' + 'x'.repeat(100));
  assert.ok(handedOver >= 3, `${handedOver} buffers handed over as they were`);
});

function chunk(rows: number, bytes: number, start: number): Chunk {
  return { rows, minStart: start, maxStart: start, data: Buffer.alloc(bytes, rows) };
}

test('the queue keeps memory first, spills the rest to a file it unlinked, reads it back in order, then drops and counts', () => {
  const dir = tempDir('queue');
  const q = new RecordQueue({ memoryBytes: 100, diskBytes: 250, spoolDir: dir });
  assert.ok(q.push(chunk(1, 60, 1)));
  assert.ok(q.push(chunk(2, 60, 2)), 'spilled');
  assert.ok(q.push(chunk(3, 60, 3)), 'queued behind the spilled one, in order');
  assert.deepEqual(fs.readdirSync(dir), [], 'the spool file has no name');
  assert.equal(q.push(chunk(4, 200, 4)), false);
  assert.deepEqual([q.rows, q.dropped, q.spilled], [6, 4, 5]);
  const seen: number[] = [];
  while (!q.empty) {
    const head = q.head(1000);
    seen.push(...head.map((c) => c.rows));
    assert.ok(
      head.every((c) => c.data.every((x) => x === c.rows)),
      'the bytes come back as they went',
    );
    q.remove(head.length);
  }
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(q.diskBytes, 0);
  q.close();
});

test('the queue counts the memory a chunk holds, not just its rows: a handed-over buffer with room left', () => {
  const q = new RecordQueue({ memoryBytes: 100, diskBytes: 0, spoolDir: tempDir('queue') });
  const roomy = Buffer.allocUnsafeSlow(90).fill(1).subarray(0, 60);
  assert.ok(q.push({ rows: 1, minStart: 1, maxStart: 1, data: roomy }));
  assert.equal(q.memoryBytes, 90);
  // 60 bytes of rows each: counted by their rows' bytes both would fit in 100, by memory not
  assert.equal(q.push(chunk(2, 60, 2)), false, 'over the memory budget, no disk: dropped');
  assert.equal(q.dropped, 2);
  q.remove(q.head(1000).length);
  assert.equal(q.memoryBytes, 0);
  q.close();
});

test('flow rows: a start, windows and an end give the values SQLite would, and only changed rows are dirty', () => {
  const f = new FlowStates({ timeoutS: 10, keepS: 5 });
  f.apply(startRec('x', T0));
  for (let i = 0; i < 4; i++) f.apply(windowRec('x', T0 + i * 0.5, 10, i < 3));
  let taken = f.takeDirty(0, 1000);
  assert.equal(taken.length, 1, 'a new flow is due at once');
  assert.equal(taken.length, 1);
  const row = taken[0].row;
  assert.deepEqual(
    [row.packets, row.windows, row.person_windows, row.presence, row.media_ts, row.timeout_at, row.ended],
    // the start record's packet is one of the windows' own: counted once
    [40, 4, 3, 'background', T0, T0 + 2 + 10, false],
  );
  // the last window turned both cameras: the local one to background, the remote one to a person
  assert.deepEqual(
    [row.presence_since, row.remote_presence, row.remote_probability, row.remote_certainty, row.remote_since],
    [T0 + 1.5, 'person', 0.7, 70, T0 + 1.5],
  );
  f.written(taken, 1000);
  assert.equal(f.dirtyCount, 0);
  // a flow that goes on is rewritten at most every second; an ended one at once
  f.apply(windowRec('x', T0 + 2, 10, false));
  assert.equal(f.takeDirty(1999, 1000).length, 0, 'not due yet');
  assert.equal(f.dirtyCount, 1, 'but still dirty');
  assert.equal(f.takeDirty(1999, 0).length, 1, 'all of them when the store closes');
  f.apply(endRec('x', T0, T0 + 2.5, 30, 'fin'));
  taken = f.takeDirty(1500, 1000);
  assert.equal(taken.length, 1, 'an ended flow is due at once');
  f.apply(windowRec('x', T0 + 2.5, 0, false)); // changed again while being written: stays dirty
  f.written(taken, 1500);
  assert.equal(f.dirtyCount, 1);
  assert.equal(f.takeDirty(2000, 1000).length, 1, 'an ended flow is due at once, however recent its last write');
  const again = f.takeDirty(2000, 1000);
  assert.deepEqual(
    [again[0].row.presence_since, again[0].row.remote_since],
    [T0 + 1.5, T0 + 1.5],
    'a run goes on across batches and writes',
  );
  f.written(again, 2000);
  f.sweep(T0 + 3 + 5);
  assert.equal(f.size, 0, 'an ended row leaves memory after keepS');
});
