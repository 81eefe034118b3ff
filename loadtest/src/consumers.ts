/** What the benchmark reads from the running services over their metrics ports: a consumer's latency histogram, gauges. */
import type { LatencySnapshot } from '@tandem/consumer';

/** The consumer's end-to-end latency since its last reset; starts a new interval. */
export async function takeLatency(metricsUrl: string): Promise<LatencySnapshot> {
  const response = await fetch(`${metricsUrl}/latency/reset`, {
    method: 'POST',
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`${metricsUrl}/latency/reset answered ${response.status}`);
  return (await response.json()) as LatencySnapshot;
}

/** A gauge's value for one label set in Prometheus text, or null when it is not there (or NaN). */
export function gaugeValue(text: string, name: string, labels: Record<string, string>): number | null {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const close = line.lastIndexOf('}');
    const labelText = close === -1 ? '' : line.slice(line.indexOf('{') + 1, close);
    if (!wanted.every((pair) => labelText.split(',').includes(pair))) continue;
    // After the labels, or after the name when there are none.
    const value = Number(
      line
        .slice(close === -1 ? name.length : close + 1)
        .trim()
        .split(' ')[0],
    );
    return Number.isFinite(value) ? value : null;
  }
  return null;
}

/** The consumer's own backlog (`consumer_backlog`): Kafka lag, or RabbitMQ ready + unacked deliveries. */
export function consumerBacklog(metricsUrl: string, pipeline: string): Promise<number | null> {
  return serviceGauge(metricsUrl, 'consumer_backlog', { pipeline });
}

/** A gauge a service serves on its `/metrics`, or null when it does not answer or has no such gauge. */
export async function serviceGauge(
  metricsUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | null> {
  try {
    const response = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    return gaugeValue(await response.text(), name, labels);
  } catch {
    return null;
  }
}
