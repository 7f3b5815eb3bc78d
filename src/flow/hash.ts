/** Integer hashing for the flow table and flow IDs: no strings, no allocation. */

/** murmur3's 32-bit finaliser: spreads every input bit over the word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One endpoint (address words + port). Combined with + so that both directions of a flow hash alike. */
export function endpointHash(w: Uint32Array, port: number): number {
  return fmix32(
    w[0] ^
      Math.imul(w[1], 0x9e3779b1) ^
      Math.imul(w[2], 0x85ebca77) ^
      Math.imul(w[3], 0xc2b2ae3d) ^
      Math.imul(port + 1, 0x27d4eb2f),
  );
}

/** 64-bit FNV-1a over 32-bit words, as two independent 32-bit lanes, printed as 16 hex digits. */
export function hash64Hex(words: readonly number[]): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (const w of words) {
    for (let s = 0; s < 32; s += 8) {
      const byte = (w >>> s) & 0xff;
      a = Math.imul(a ^ byte, 0x01000193);
      b = Math.imul(b ^ byte, 0x01000193) ^ (b >>> 15);
    }
  }
  return (
    fmix32(a).toString(16).padStart(8, '0') +
    fmix32(b ^ a)
      .toString(16)
      .padStart(8, '0')
  );
}
