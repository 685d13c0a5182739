// Windowing for the message list: only the rows near the viewport are in the DOM, spacers stand
// in for the rest. Row heights are measured once rendered and estimated until then.

export interface Layout {
  /** The top of each row, from the top of the list. */
  readonly offsets: readonly number[];
  readonly total: number;
}

export function layout(heights: readonly number[]): Layout {
  const offsets = new Array<number>(heights.length);
  let top = 0;
  for (let index = 0; index < heights.length; index += 1) {
    offsets[index] = top;
    top += heights[index]!;
  }
  return { offsets, total: top };
}

/** The first row whose bottom is below `y` (the row at `y`), by binary search. */
export function rowAt(layout: Layout, heights: readonly number[], y: number): number {
  let low = 0;
  let high = layout.offsets.length - 1;
  if (high < 0) return 0;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (layout.offsets[middle]! + heights[middle]! <= y) low = middle + 1;
    else high = middle;
  }
  return low;
}

export interface Range {
  readonly start: number;
  /** One past the last row. */
  readonly end: number;
}

/** The rows to render for a viewport, with `overscan` pixels more above and below. */
export function visibleRange(layout: Layout, heights: readonly number[], scrollTop: number, viewport: number, overscan: number): Range {
  const count = heights.length;
  if (count === 0) return { start: 0, end: 0 };
  const start = rowAt(layout, heights, Math.max(0, scrollTop - overscan));
  const end = Math.min(count, rowAt(layout, heights, scrollTop + viewport + overscan) + 1);
  return { start, end };
}

/** Where a row sits relative to the top of the viewport: what scroll anchoring keeps constant. */
export interface Anchor {
  readonly key: string;
  readonly delta: number;
}

/** The scrollTop that puts the anchor's row back where it was (null when the row is gone). */
export function anchoredScrollTop(layout: Layout, keys: readonly string[], anchor: Anchor): number | null {
  const index = keys.indexOf(anchor.key);
  return index < 0 ? null : layout.offsets[index]! - anchor.delta;
}
