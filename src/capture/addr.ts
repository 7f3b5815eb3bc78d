/**
 * IP addresses as the capture stage keeps them: four 32-bit words, most significant first
 * (IPv4 uses word 0 only). Strings are built only at the edges (display, CSV, filters).
 */

/** Dotted quad for IPv4; RFC 5952 short form for IPv6 (IPv4-mapped addresses as ::ffff:a.b.c.d). */
export function formatAddr(words: Uint32Array, version: 4 | 6): string {
  if (version === 4) return dotted(words[0]);
  const groups = [
    words[0] >>> 16,
    words[0] & 0xffff,
    words[1] >>> 16,
    words[1] & 0xffff,
    words[2] >>> 16,
    words[2] & 0xffff,
    words[3] >>> 16,
    words[3] & 0xffff,
  ];
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return `::ffff:${dotted(words[3])}`;
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number) =>
    groups
      .slice(a, b)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Parses a dotted quad or any RFC 4291 IPv6 text form (incl. :: and a trailing dotted quad); null if invalid. */
export function parseAddr(s: string): { version: 4 | 6; words: Uint32Array } | null {
  if (!s.includes(':')) {
    const v4 = parseDotted(s);
    return v4 === null ? null : { version: 4, words: Uint32Array.of(v4, 0, 0, 0) };
  }
  const groups = parseV6Groups(s);
  if (groups === null) return null;
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = (groups[2 * i] << 16) | groups[2 * i + 1];
  return { version: 6, words };
}

function dotted(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
}

function parseDotted(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let w = 0;
  for (const p of parts) {
    // No leading zeros: "010" is octal to some tools and decimal to others, so refuse it.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    w = w * 256 + n;
  }
  return w;
}

function parseV6Groups(s: string): number[] | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const side = (t: string, dottedTail: boolean): number[] | null => {
    if (t === '') return [];
    const out: number[] = [];
    const parts = t.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (dottedTail && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseDotted(p);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = side(halves[0], halves.length === 1);
  if (head === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const tail = side(halves[1], true);
  if (tail === null || head.length + tail.length > 7) return null;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
