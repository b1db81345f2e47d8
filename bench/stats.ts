/** Percentiles over a sample (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Counts per bucket of `histogramEdges` (ms), for the chart. */
  histogram: number[];
}

export const histogramEdges = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, Number.POSITIVE_INFINITY];

/**
 * Samples kept in a preallocated Float64Array: recording one allocates nothing, so the load generator's
 * own garbage collector does not add to the latencies it measures.
 */
export class Samples {
  private data: Float64Array;
  length = 0;

  constructor(expected: number) {
    this.data = new Float64Array(Math.max(1024, Math.ceil(expected * 1.25)));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  const histogram = histogramEdges.map(() => 0);
  for (const value of list) {
    const bucket = histogramEdges.findIndex((edge) => value <= edge);
    histogram[bucket] = (histogram[bucket] as number) + 1;
  }
  return {
    count: list.length,
    p50: percentile(list, 50),
    p90: percentile(list, 90),
    p99: percentile(list, 99),
    max: list.length ? (list[list.length - 1] as number) : Number.NaN,
    histogram,
  };
}
