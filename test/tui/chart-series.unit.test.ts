import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisMax, bitrateSeries, bitrateUnit, presenceSeries } from '../../src/tui/chart-series';
import { formatDateTime } from '../../src/tui/columns';
import { detailsLayout } from '../../src/tui/layout';
import { windowRows, T0 } from '../../src/testkit/fixture-db';

/** The details view's chart data, shaped from window rows without a terminal. */

const hms = (t: number): string => formatDateTime(t).slice(11);

test('presence series: one point per window when they fit, P(person) and the final prediction as 0/1', () => {
  const wins = windowRows(4, T0, (i) => ({ probability: [0.1, 0.6, 0.9, 0.4][i], presence: [0, 1, 1, 0][i] }));
  const s = presenceSeries(wins, 10);
  assert.ok(s);
  assert.deepEqual(s.y.probability, [0.1, 0.6, 0.9, 0.4]);
  assert.deepEqual(s.y.final, [0, 1, 1, 0]);
  assert.deepEqual(s.x, [T0, T0 + 0.5, T0 + 1, T0 + 1.5].map(hms));
  assert.equal(s.windows, 4);
});

test('presence series: windows without a prediction are left out; none at all (no model) gives null', () => {
  const wins = windowRows(5, T0, (i) =>
    i < 2 ? { probability: null, presence: null } : { probability: 0.5, presence: 1 },
  );
  const s = presenceSeries(wins, 10);
  assert.ok(s);
  assert.equal(s.windows, 3);
  assert.deepEqual(s.y.probability, [0.5, 0.5, 0.5]);
  assert.equal(s.x[0], hms(T0 + 1), 'the chart starts at the first predicted window');
  assert.equal(
    presenceSeries(
      windowRows(5, T0, () => ({ probability: null, presence: null })),
      10,
    ),
    null,
  );
  assert.equal(presenceSeries([], 10), null);
});

test('presence series: a long history is cut into at most maxPoints points: mean P, majority prediction', () => {
  // 10 windows into 4 points: buckets of 3, 3, 3, 1
  const p = [0, 0.3, 0.6, 1, 1, 1, 0.2, 0.2, 0.5, 0.9];
  const f = [0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
  const s = presenceSeries(
    windowRows(10, T0, (i) => ({ probability: p[i], presence: f[i] })),
    4,
  );
  assert.ok(s);
  assert.equal(s.x.length, 4);
  assert.deepEqual(
    s.y.probability.map((v) => Number(v.toFixed(6))),
    [0.3, 1, 0.3, 0.9],
  );
  assert.deepEqual(s.y.final, [1, 0, 0, 1]);
  assert.deepEqual(s.x, [T0, T0 + 1.5, T0 + 3, T0 + 4.5].map(hms), 'each point is labelled with its first window');
  const long = presenceSeries(windowRows(2000, T0), 67);
  assert.ok(long && long.x.length <= 67 && long.x.length >= 60);
  assert.ok(long.y.probability.every(Number.isFinite) && long.y.final.every((v) => v === 0 || v === 1));
});

test('bitrate series: mean per point in the unit that suits the peak, all finite', () => {
  const kb = bitrateSeries(
    windowRows(3, T0, (i) => ({ bitrate: [640_000, 700_000, 760_000][i] })),
    10,
  );
  assert.ok(kb);
  assert.equal(kb.unit.name, 'kb/s');
  assert.deepEqual(kb.y.bitrate, [640, 700, 760]);
  const mb = bitrateSeries(
    windowRows(4, T0, (i) => ({ bitrate: (i + 1) * 1e6 })),
    2,
  );
  assert.ok(mb);
  assert.equal(mb.unit.name, 'Mb/s');
  assert.deepEqual(mb.y.bitrate, [1.5, 3.5]);
  const silent = bitrateSeries(
    windowRows(2, T0, () => ({ bitrate: 0 })),
    10,
  );
  assert.ok(silent);
  assert.equal(silent.unit.name, 'b/s');
  assert.deepEqual(silent.y.bitrate, [0, 0]);
  assert.equal(bitrateSeries([], 10), null);
  assert.deepEqual(
    [999, 1000, 2.5e6, 3e9].map((v) => bitrateUnit(v).name),
    ['b/s', 'kb/s', 'Mb/s', 'Gb/s'],
  );
});

test('axisMax: five round steps (1, 2, 5 x 10^k) whose fourth reaches the peak; a zero peak still has an axis', () => {
  assert.equal(axisMax(760), 1000); // labels 0 200 400 600 800
  assert.equal(axisMax(800), 1000);
  assert.equal(axisMax(801), 2500); // steps of 500
  assert.equal(axisMax(3.5), 5); // steps of 1
  assert.equal(axisMax(0.7), 1); // steps of 0.2
  assert.equal(axisMax(0), 5);
  assert.equal(axisMax(Number.NaN), 5);
  for (const peak of [0.013, 1.7, 42, 999, 123456]) {
    const step = axisMax(peak) / 5;
    // 1-2-5 steps: the top label at or above the peak, never more than 2.5 times it
    assert.ok(4 * step >= peak && 4 * step <= 2.5 * peak * (1 + 1e-9), `peak ${peak}: step ${step}`);
  }
});

test('details layout: two charts side by side from 80x24 on, growing with the terminal; sparklines below', () => {
  const at80 = detailsLayout(80, 24);
  assert.ok(at80.charts);
  assert.deepEqual(at80.charts.presence, { x: 1, y: 1, width: 39, height: 10 });
  assert.deepEqual(at80.charts.bitrate, { x: 40, y: 1, width: 39, height: 10 });
  assert.equal(at80.headRows + at80.textRows, 22);
  const big = detailsLayout(201, 60);
  assert.ok(big.charts);
  assert.equal(big.charts.presence.width + big.charts.bitrate.width, 199);
  assert.equal(big.headRows, 20, 'charts stop growing at 20 rows: the text needs room too');
  for (const [w, h] of [
    [79, 40],
    [120, 23],
    [40, 10],
  ]) {
    const l = detailsLayout(w, h);
    assert.equal(l.charts, null, `${w}x${h}`);
    assert.equal(l.headRows, 3);
    assert.equal(l.headRows + l.textRows, h - 2);
  }
});
