// ramp: arrivals grow linearly from START_RATE to PEAK_RATE, hold, and fall back: where does latency bend?
import { envNumber, envString, options as scenarioOptions, sendOne } from './lib.js';

export { handleSummary, setup } from './lib.js';

export const options = scenarioOptions(
  'ramp',
  {
    executor: 'ramping-arrival-rate',
    startRate: envNumber('START_RATE', 10),
    timeUnit: '1s',
    stages: [
      { target: envNumber('PEAK_RATE', 200), duration: envString('RAMP_UP', '2m') },
      { target: envNumber('PEAK_RATE', 200), duration: envString('HOLD', '1m') },
      { target: envNumber('START_RATE', 10), duration: envString('RAMP_DOWN', '30s') },
    ],
    preAllocatedVUs: envNumber('PRE_VUS', 30),
    maxVUs: envNumber('MAX_VUS', 500),
  },
  { p95Ms: 1000, p99Ms: 3000 },
);

export default function (data) {
  sendOne(data.runId);
}
