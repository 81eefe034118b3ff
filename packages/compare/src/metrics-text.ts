/** Reading the services' `/metrics` (Prometheus text format): the samples of one metric, and sums over them. */

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of the metric `name` (exactly that name: `x_bucket` is not `x`). */
export function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const close = rest[0] === '{' ? rest.lastIndexOf('}') : -1;
    const labels: Record<string, string> = {};
    if (close !== -1) {
      for (const [, key, value] of rest.slice(1, close).matchAll(labelPattern)) {
        labels[key as string] = (value as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    const value = Number(
      rest
        .slice(close + 1)
        .trim()
        .split(' ')[0],
    );
    found.push({ labels, value });
  }
  return found;
}

/** The sum of the samples of `name` whose labels include `where`, grouped by the label `by`. */
export function sumBy(
  text: string,
  name: string,
  by: string,
  where: (labels: Record<string, string>) => boolean = () => true,
): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const { labels, value } of samples(text, name)) {
    if (!where(labels) || !Number.isFinite(value)) continue;
    const key = labels[by] ?? '';
    sums[key] = (sums[key] ?? 0) + value;
  }
  return sums;
}
