/** "1 call", "3 calls", "0 windows": a count and its noun, which takes an s unless the count is 1. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
