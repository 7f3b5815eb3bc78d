import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Slab } from '../../src/util/slab';

test('a slab hands out distinct slots, takes the last freed one first, and keeps records when it grows', () => {
  const s = new Slab(3, 2);
  const a = s.take();
  const b = s.take();
  assert.deepEqual([a, b], [0, 3]);
  s.data.set([1, 2, 3], a);
  s.data.set([4, 5, 6], b);
  const c = s.take();
  assert.equal(c, 6, 'past its size: a third slot');
  assert.deepEqual([...s.data.subarray(0, 6)], [1, 2, 3, 4, 5, 6], 'the records taken before are copied');
  s.free(a);
  s.free(c);
  assert.equal(s.take(), c);
  assert.equal(s.take(), a);
  assert.equal(s.take(), 9, 'no free slot left: a new one');
  assert.deepEqual([...s.data.subarray(b, b + 3)], [4, 5, 6], 'a slot never freed is never handed out again');
});
