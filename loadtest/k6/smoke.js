// smoke: a few seconds, for CI. A little of everything the contract promises: single messages with client ids
// (body and Idempotency-Key), one without, duplicates, an invalid message, batches with a repeated id.
import exec from 'k6/execution';
import { envNumber, envString, options as scenarioOptions, sendBatch, sendOne } from './lib.js';

export { handleSummary, setup } from './lib.js';

export const options = scenarioOptions(
  'smoke',
  {
    executor: 'shared-iterations',
    vus: envNumber('VUS', 2),
    iterations: envNumber('ITERATIONS', 40),
    maxDuration: envString('MAX_DURATION', '30s'),
  },
  // Cold connections and a busy CI machine: generous latency limits, no errors at all.
  { errorRate: 0.0001, p95Ms: 1000, p99Ms: 3000 },
);

export default function (data) {
  const i = exec.scenario.iterationInTest;
  if (i % 10 === 9) sendBatch(data.runId, envNumber('BATCH_SIZE', 5), 0.2);
  else
    sendOne(data.runId, {
      invalid: i % 10 === 3 ? true : undefined,
      duplicate: i % 10 === 1 ? true : undefined,
    });
}
