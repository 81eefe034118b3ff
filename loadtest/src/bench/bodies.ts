/**
 * The bodies the bench's generator sends: realistic weather messages from the k6 scenarios' own generator
 * (k6/messages.js: weighted countries spelled as clients type them, weathers in English and Spanish, fitting
 * descriptions), as a vegeta targets file — one JSON line per request, cycled through in order.
 *
 * No message carries an id: the edge gives each accepted message a new one, so a body sent again is a new message
 * and every 202 is one message (a batch's, `batchSize`) to be counted exactly once. The bench's database is its
 * own and flushed, so each store's total is what the exactness check compares.
 */
import { writeFileSync } from 'node:fs';
import { messageGenerator, prng } from '../../k6/messages.js';
import type { LoadPath } from '../report.ts';

export interface BodiesOptions {
  path: LoadPath;
  /** Messages per request: 1 for POST /input. */
  batchSize: number;
  /** The edges: requests rotate over them, as a load balancer would. */
  edgeUrls: readonly string[];
  /** Distinct requests in the file (the generator cycles through them). */
  count: number;
  seed: number;
}

/** The request bodies, each a JSON text: one message, or an array of `batchSize`. */
export function requestBodies(
  options: Pick<BodiesOptions, 'path' | 'batchSize' | 'count' | 'seed'>,
): string[] {
  // The k6 scenarios' default share of Spanish messages.
  const generator = messageGenerator(prng(options.seed), 0.4);
  return Array.from({ length: options.count }, () =>
    JSON.stringify(
      options.path === 'batch'
        ? Array.from({ length: options.batchSize }, () => generator.message())
        : generator.message(),
    ),
  );
}

/** vegeta's JSON targets format: method, url, base64 body and headers, one target a line. */
export function vegetaTargets(options: BodiesOptions): string {
  const endpoint = options.path === 'batch' ? '/input/batch' : '/input';
  return requestBodies(options)
    .map((body, i) =>
      JSON.stringify({
        method: 'POST',
        url: `${options.edgeUrls[i % options.edgeUrls.length]}${endpoint}`,
        body: Buffer.from(body).toString('base64'),
        header: { 'Content-Type': ['application/json'] },
      }),
    )
    .join('\n')
    .concat('\n');
}

export function writeVegetaTargets(file: string, options: BodiesOptions): string {
  writeFileSync(file, vegetaTargets(options));
  return file;
}
