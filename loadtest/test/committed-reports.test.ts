/**
 * Every report committed under bench/results/ re-renders from its JSON to the very bytes committed beside it: a
 * change to the report's code must not rewrite history (old runs stay readable and comparable), and a new figure
 * appears only in reports that measured it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultsDir } from '../src/bench/plan.ts';
import { type BenchReport, markdown, svg } from '../src/report.ts';

// The bench's runs (a comparison `-vs-` has no JSON of its own; a soak has its own report).
const runs = readdirSync(resultsDir)
  .filter((file) => file.endsWith('.json') && !file.startsWith('soak-'))
  .map((file) => file.replace(/\.json$/, ''));

describe('the committed bench reports', () => {
  it('are there', () => {
    expect(runs.length).toBeGreaterThanOrEqual(6);
  });

  it.each(runs)('%s re-renders byte for byte', (run) => {
    const report = JSON.parse(readFileSync(join(resultsDir, `${run}.json`), 'utf8')) as BenchReport;
    expect(markdown(report, `${run}.svg`)).toBe(readFileSync(join(resultsDir, `${run}.md`), 'utf8'));
    expect(svg(report)).toBe(readFileSync(join(resultsDir, `${run}.svg`), 'utf8'));
  });
});
