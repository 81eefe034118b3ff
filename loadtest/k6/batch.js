// batch: POST /input/batch at RATE requests per second, BATCH_SIZE messages each (so RATE × BATCH_SIZE messages
// per second), DUP_IN_BATCH_SHARE of the items repeating an earlier item's id (accepted, counted once).
import { envNumber, envShare, envString, options as scenarioOptions, sendBatch } from './lib.js';

export { handleSummary, setup } from './lib.js';

const size = envNumber('BATCH_SIZE', 100);
const duplicateShare = envShare('DUP_IN_BATCH_SHARE', 0.02);

export const options = scenarioOptions(
  'batch',
  {
    executor: 'constant-arrival-rate',
    rate: envNumber('RATE', 5),
    timeUnit: '1s',
    duration: envString('DURATION', '1m'),
    preAllocatedVUs: envNumber('PRE_VUS', 10),
    maxVUs: envNumber('MAX_VUS', 100),
  },
  { p95Ms: 1500, p99Ms: 3000 },
);

export default function (data) {
  sendBatch(data.runId, size, duplicateShare);
}
