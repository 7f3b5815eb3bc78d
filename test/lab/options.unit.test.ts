import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions } from '../../src/lab/options';

test('lab --store-bytes: default keeps packets as captured; below 54 bytes the headers spymate reads would be cut', () => {
  assert.equal(parseOptions([]).storeBytes, 0);
  assert.equal(parseOptions(['--store-bytes', '54']).storeBytes, 54);
  assert.throws(() => parseOptions(['--store-bytes', '40']), /--store-bytes must be 0 or 54\.\.128, not "40"/);
  assert.throws(() => parseOptions(['--store-bytes', '200']), /--store-bytes must be a number in 0\.\.128/);
});

test("lab --camera-off: a span of peer A's video time, inside the call", () => {
  assert.equal(parseOptions([]).cameraOff, undefined);
  assert.deepEqual(parseOptions(['--camera-off', '20-40.5']).cameraOff, { from: 20, to: 40.5 });
  assert.throws(
    () => parseOptions(['--camera-off', '40-20']),
    /--camera-off must be FROM-TO seconds within the call \(0\.\.150\), not "40-20"/,
  );
  assert.throws(() => parseOptions(['--seconds', '30', '--camera-off', '20-40']), /within the call \(0\.\.30\)/);
});
