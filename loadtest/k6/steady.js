// steady: an open model — RATE messages per second whatever the answers take (constant-arrival-rate), so a slow
// system gets a queue, not a politely slower client (no coordinated omission). `dropped_iterations` counts the
// arrivals k6 could not start because every VU was busy.
import { envNumber, envString, options as scenarioOptions, sendOne } from './lib.js';

export { handleSummary, setup } from './lib.js';

export const options = scenarioOptions('steady', {
  executor: 'constant-arrival-rate',
  rate: envNumber('RATE', 50),
  timeUnit: '1s',
  duration: envString('DURATION', '1m'),
  preAllocatedVUs: envNumber('PRE_VUS', 20),
  maxVUs: envNumber('MAX_VUS', 300),
});

export default function (data) {
  sendOne(data.runId);
}
