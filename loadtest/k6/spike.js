// spike: a calm BASE_RATE, a sudden SPIKE_RATE (up in SPIKE_RISE), then calm again: the edge may shed load with
// 429 (Retry-After; clients retry with the same id), must never lose or double-count, and must recover.
import { envNumber, envString, options as scenarioOptions, sendOne } from './lib.js';

export { handleSummary, setup } from './lib.js';

const base = envNumber('BASE_RATE', 20);
const spike = envNumber('SPIKE_RATE', 400);

export const options = scenarioOptions(
  'spike',
  {
    executor: 'ramping-arrival-rate',
    startRate: base,
    timeUnit: '1s',
    stages: [
      { target: base, duration: envString('BEFORE', '30s') },
      { target: spike, duration: envString('SPIKE_RISE', '5s') },
      { target: spike, duration: envString('SPIKE_HOLD', '20s') },
      { target: base, duration: envString('SPIKE_FALL', '5s') },
      { target: base, duration: envString('AFTER', '1m') },
    ],
    preAllocatedVUs: envNumber('PRE_VUS', 50),
    maxVUs: envNumber('MAX_VUS', 1000),
  },
  // Shedding load during the spike is allowed; losing a message is not (the runner checks the stores).
  { errorRate: 0.05, p95Ms: 2000, p99Ms: 5000 },
);

export default function (data) {
  sendOne(data.runId);
}
