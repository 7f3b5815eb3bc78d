/**
 * Records of `stride` doubles, one slot each, in one Float64Array. Per-flow state is kept here
 * rather than in a typed array per flow: V8 spends ~300 bytes of bookkeeping on each typed array
 * besides its data, which at 100 000 flows is 30 MB per array a flow would own. A freed slot's
 * first double links it to the next free one, so take() and free() allocate nothing.
 *
 * Size it for the most slots ever held (a slot per flow: the flow table's cap). The operating
 * system gives a large zeroed allocation pages only as they are written, so the slots never taken
 * cost address space, not memory, and the most recently freed slot is taken first; growing
 * instead would copy the slab and leave the old one as garbage at the peak, until a full GC.
 */
export class Slab {
  /** the records; replaced by a larger copy if it was sized too small, so read it again after take() */
  data: Float64Array;
  private used = 0;
  /** offset of the first free slot, -1: none */
  private freeHead = -1;

  constructor(
    readonly stride: number,
    slots = 1024,
  ) {
    this.data = new Float64Array(slots * stride);
  }

  /** A slot's offset in `data`; its contents are whatever was left there. */
  take(): number {
    const o = this.freeHead;
    if (o >= 0) {
      this.freeHead = this.data[o];
      return o;
    }
    const next = this.used * this.stride;
    if (next + this.stride > this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.used++;
    return next;
  }

  free(o: number): void {
    this.data[o] = this.freeHead;
    this.freeHead = o;
  }
}
