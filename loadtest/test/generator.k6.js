// Run by test/k6.test.ts: k6 generates messages with the scenarios' generator (in setup, whose result reaches
// handleSummary) and writes them to OUT, for Node to check against the real validation rules.
import { invalidMessage, message } from '../k6/lib.js';

export const options = { vus: 1, iterations: 1 };

export function setup() {
  const valid = [];
  const invalid = [];
  for (let i = 0; i < 2000; i += 1) valid.push(message());
  for (let i = 0; i < 200; i += 1) invalid.push(invalidMessage());
  return { valid, invalid };
}

export default function () {}

export function handleSummary(data) {
  return { [__ENV.OUT]: JSON.stringify(data.setup_data) };
}
