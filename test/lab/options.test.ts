import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions } from './options';

test('lab --store-bytes: default keeps packets as captured; below 54 bytes the headers spymate reads would be cut', () => {
  assert.equal(parseOptions([]).storeBytes, 0);
  assert.equal(parseOptions(['--store-bytes', '54']).storeBytes, 54);
  assert.throws(() => parseOptions(['--store-bytes', '40']), /--store-bytes must be 0 or 54\.\.128, not "40"/);
  assert.throws(() => parseOptions(['--store-bytes', '200']), /--store-bytes must be a number in 0\.\.128/);
});
