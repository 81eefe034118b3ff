/** The fault table: one row per kind of fault, its repetitions summed (times: the worst repetition). */

export interface Repetition {
  fault: string;
  accepted: number;
  /** Accepted ids not counted, in the worse of the two stores. */
  lost: number;
  /** Counted beyond the accepted ids, in the worse of the two stores. */
  doubleCounted: number;
  /** Requests the clients had to send again (any answer but 202, or none). */
  retried: number;
  /**
   * How long the injection itself took (s): the kill until the service answered its health check again, or the
   * server's stop and start as the stack did them (up to its own check that the server answers). A gap is read
   * against it: a slow restart of the server is not a slow recovery of the clients.
   */
  faultS: number;
  /** Longest stretch without a single 202 (s). */
  longestGapS: number;
  /** From the fault's start until the edge accepted again and both stores were caught up (s). */
  recoverS: number;
  /** Times a service exited by itself and was restarted by the supervisor (the killed one not included). */
  selfExits: number;
}

export function summarise(repetitions: readonly Repetition[]): string {
  const kinds = [...new Set(repetitions.map((r) => r.fault))];
  const header = [
    'fault',
    'reps',
    'accepted',
    'lost',
    'double-counted',
    'retried',
    'fault (s)',
    'longest gap (s)',
    'time to recover (s)',
    'service exits',
  ];
  const rows = kinds.map((fault) => {
    const reps = repetitions.filter((r) => r.fault === fault);
    const sum = (pick: (r: Repetition) => number) => reps.reduce((total, r) => total + pick(r), 0);
    const max = (pick: (r: Repetition) => number) => Math.max(...reps.map(pick));
    const min = (pick: (r: Repetition) => number) => Math.min(...reps.map(pick));
    const range = (pick: (r: Repetition) => number) => {
      const [low, high] = [min(pick), max(pick)];
      return low.toFixed(1) === high.toFixed(1) ? high.toFixed(1) : `${low.toFixed(1)}–${high.toFixed(1)}`;
    };
    return [
      fault,
      String(reps.length),
      String(sum((r) => r.accepted)),
      String(sum((r) => r.lost)),
      String(sum((r) => r.doubleCounted)),
      String(sum((r) => r.retried)),
      range((r) => r.faultS),
      range((r) => r.longestGapS),
      range((r) => r.recoverS),
      String(sum((r) => r.selfExits)),
    ];
  });
  const all = repetitions;
  rows.push([
    'total',
    String(all.length),
    String(all.reduce((t, r) => t + r.accepted, 0)),
    String(all.reduce((t, r) => t + r.lost, 0)),
    String(all.reduce((t, r) => t + r.doubleCounted, 0)),
    String(all.reduce((t, r) => t + r.retried, 0)),
    '',
    '',
    '',
    String(all.reduce((t, r) => t + r.selfExits, 0)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
