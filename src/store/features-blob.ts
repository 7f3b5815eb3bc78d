/**
 * windows.features (schema v3): the window's feature values as IEEE-754 float64, little-endian, in
 * the order of meta `feature_names`; NaN where a feature has no value. One place for both ways.
 */

/** Float64Arrays are in the machine's order; on a little-endian one the bytes bind as they are. */
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

/** The BLOB of a window's features (a view, not a copy, where the byte order allows). */
export function featureBytes(f: Float64Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  const out = Buffer.allocUnsafe(f.length * 8);
  for (let i = 0; i < f.length; i++) out.writeDoubleLE(f[i], i * 8);
  return out;
}

/** A windows.features BLOB as numbers. */
export function featureValues(blob: Uint8Array): Float64Array {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const out = new Float64Array(Math.floor(b.length / 8));
  for (let i = 0; i < out.length; i++) out[i] = b.readDoubleLE(i * 8);
  return out;
}

/** meta `feature_names` (a JSON array of names) as stored; null when absent or unreadable. */
export function parseFeatureNames(json: string | undefined): string[] | null {
  if (json === undefined) return null;
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.map(String) : null;
  } catch {
    return null;
  }
}
