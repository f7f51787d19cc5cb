/**
 * Fewer points for a long series without losing its spikes: per bucket, its minimum and its
 * maximum in time order. A cascade that lasts one step stays on the chart.
 */
export function decimate(params: { xs: ArrayLike<number>; ys: ArrayLike<number>; buckets: number }): [number, number][] {
  const { xs, ys, buckets } = params;
  const n = Math.min(xs.length, ys.length);
  const point = (i: number): [number, number] => [xs[i] ?? 0, ys[i] ?? 0];
  if (n <= buckets * 2) return Array.from({ length: n }, (_, i) => point(i));
  const size = Math.ceil(n / buckets);
  const points: [number, number][] = [];
  for (let start = 0; start < n; start += size) {
    let low = start;
    let high = start;
    for (let i = start; i < Math.min(n, start + size); i++) {
      if ((ys[i] ?? 0) < (ys[low] ?? 0)) low = i;
      if ((ys[i] ?? 0) > (ys[high] ?? 0)) high = i;
    }
    for (const i of low === high ? [low] : [Math.min(low, high), Math.max(low, high)]) points.push(point(i));
  }
  const last = point(n - 1);
  if (points[points.length - 1]?.[0] !== last[0]) points.push(last);
  return points;
}
