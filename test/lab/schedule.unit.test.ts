import { test } from 'node:test';
import assert from 'node:assert/strict';
import { remoteLabels } from '../../src/lab/schedule';

test("remote peers' labels sit on their own video clock, clipped to the capture; a peer without a clock gets none", () => {
  const schedule = [
    { label: 'background' as const, start: 0, end: 10 },
    { label: 'person' as const, start: 10, end: 30 },
  ];
  const out = remoteLabels({
    name: 'rec',
    capture: { start: 1000, end: 1025 },
    peers: {
      A: { ip: '10.0.0.1', videoStartEpoch: 1001, schedule },
      B: { ip: '10.0.0.2', videoStartEpoch: 1002.5, schedule },
      C: { ip: '10.0.0.3', schedule },
    },
  });
  assert.deepEqual(
    out.map((r) => [r.peer, r.ip, r.file]),
    [['B', '10.0.0.2', 'rec.B.labels.csv']],
  );
  assert.equal(out[0].csv, 'start,end,label\n1002.500,1012.500,background\n1012.500,1025.000,person\n');
});
