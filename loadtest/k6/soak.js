// soak: a moderate RATE for a long DURATION: leaks, growing latency, a backlog that never drains, dedup keys
// piling up in the stores (seen:<id> with the dedup TTL).
import { envNumber, envString, options as scenarioOptions, sendOne } from './lib.js';

export { handleSummary, setup } from './lib.js';

export const options = scenarioOptions('soak', {
  executor: 'constant-arrival-rate',
  rate: envNumber('RATE', 30),
  timeUnit: '1s',
  duration: envString('DURATION', '30m'),
  preAllocatedVUs: envNumber('PRE_VUS', 20),
  maxVUs: envNumber('MAX_VUS', 300),
});

export default function (data) {
  sendOne(data.runId);
}
