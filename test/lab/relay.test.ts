/**
 * The lab's delay/loss relay (relay.ts) on loopback: what goes through it arrives late by the
 * asked delay, in order, with the asked share lost; and the SDP rewriting that routes a call
 * through it leaves ICE no other path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { startRelay } from '../../src/lab/relay';
import { viaRelay } from '../../src/lab/call';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

test(
  'relay: 500 packets A → B arrive 30 ± 3 ms late (plus timer slack), in order, about 10 % lost; B → A goes back the same way',
  { timeout: 20_000 },
  async () => {
    const relay = await startRelay('127.0.0.1', { oneWayMs: 30, jitterMs: 3, loss: 0.1 }, 7);
    const [a, b] = [await socket(), await socket()];
    try {
      const atB: Array<{ i: number; late: number }> = [];
      const sentAt = new Map<number, number>();
      b.on('message', (m) => {
        const i = m.readUInt32BE(0);
        atB.push({ i, late: performance.now() - sentAt.get(i)! });
      });
      const atA: number[] = [];
      a.on('message', (m) => atA.push(m.readUInt32BE(0)));
      // each side's address is learnt from its first packet, as ICE's checks teach it
      const packet = (i: number) => {
        const m = Buffer.alloc(100);
        m.writeUInt32BE(i, 0);
        return m;
      };
      a.send(packet(1_000_000), relay.portA, '127.0.0.1');
      b.send(packet(2_000_000), relay.portB, '127.0.0.1');
      await sleep(100);
      for (let i = 0; i < 500; i++) {
        sentAt.set(i, performance.now());
        a.send(packet(i), relay.portA, '127.0.0.1');
        await sleep(2);
      }
      for (let i = 0; i < 50; i++) b.send(packet(3_000_000 + i), relay.portB, '127.0.0.1');
      await sleep(300);

      const got = atB.filter((p) => p.i < 500);
      assert.ok(got.length >= 420 && got.length <= 480, `${500 - got.length} of 500 lost, want ≈ 50`);
      assert.equal(relay.lines[0].dropped + relay.lines[0].passed, 501, 'every packet A sent is counted once');
      assert.ok(
        got.every((p, k) => k === 0 || p.i > got[k - 1].i),
        'reordered',
      );
      const late = got.map((p) => p.late).sort((x, y) => x - y);
      assert.ok(late[0] >= 26.5, `earliest ${late[0].toFixed(1)} ms, want ≥ 27`);
      assert.ok(
        late[late.length >> 1] >= 28 && late[late.length >> 1] <= 50,
        `median ${late[late.length >> 1].toFixed(1)} ms, want ≈ 30`,
      );
      // B → A: the other line, to the address A's first packet taught the relay
      const back = atA.filter((i) => i >= 3_000_000);
      assert.ok(back.length >= 35 && back.length < 50, `${back.length} of 50 B → A packets arrived, want ≈ 45`);
    } finally {
      relay.close();
      a.close();
      b.close();
    }
  },
);

test('viaRelay moves every UDP candidate to the relay and drops TCP ones; other SDP lines untouched', () => {
  const sdp = [
    'v=0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'c=IN IP4 0.0.0.0',
    'a=candidate:1 1 udp 2122194687 10.77.5.1 41000 typ host generation 0 network-id 1',
    'a=candidate:2 1 tcp 1518214911 10.77.5.1 9 typ host tcptype active generation 0 network-id 1',
    'a=candidate:3 1 UDP 2122194687 10.77.5.1 41002 typ host generation 0',
    'a=ice-ufrag:abcd',
    '',
  ].join('\r\n');
  const out = viaRelay(sdp, '10.77.5.2', 50000).split('\r\n');
  assert.deepEqual(
    out.filter((l) => l.startsWith('a=candidate:')),
    [
      'a=candidate:1 1 udp 2122194687 10.77.5.2 50000 typ host generation 0 network-id 1',
      'a=candidate:3 1 UDP 2122194687 10.77.5.2 50000 typ host generation 0',
    ],
  );
  assert.deepEqual(
    out.filter((l) => !l.startsWith('a=candidate:')),
    sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:')),
  );
});
