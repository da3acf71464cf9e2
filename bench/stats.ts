// Order statistics for timings: the median (what the report compares) and the spread around it.
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** Middle half of the runs: 25th to 75th percentile (nearest rank). */
  q1: number;
  q3: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

/** The median of an even count is the mean of the two middle values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, median: median(sorted), min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN, q1: quantile(sorted, 0.25), q3: quantile(sorted, 0.75) };
}

/** Milliseconds with a precision that suits the size. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 100) return `${value.toFixed(0)} ms`;
  if (Math.abs(value) >= 10) return `${value.toFixed(1)} ms`;
  if (Math.abs(value) >= 0.1) return `${value.toFixed(2)} ms`;
  return `${(value * 1000).toFixed(1)} µs`;
}

/** "median (min–max)" */
export const spread = (s: Summary): string => `${ms(s.median)} (${ms(s.min)}–${ms(s.max)}, n=${s.n})`;

export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
