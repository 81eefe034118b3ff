// What every scenario shares: settings from __ENV, the message generator, sending with retries, the metrics the
// runner reads to check the stores, thresholds, and the end-of-test summary. Plain JavaScript run by k6 (not Node).
//
// Ids: every message a scenario sends with a client id has the id `<runId>-<scenario>-<iteration>[-<item>]`, where
// the iteration number is unique in the whole test (exec.scenario.iterationInTest). A retry or a duplicate send
// reuses it. So the number of distinct accepted ids is simply how many iterations (batch items) got at least one
// 202 — a Counter, summed over every VU — and the runner can find exactly this run's ids in the stores by their
// prefix (`seen:<runId>-*`).
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { messageGenerator, prng } from './messages.js';

// ---------------------------------------------------------------------------------------------------- settings

export function envString(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
}

export function envNumber(name, fallback) {
  const value = envString(name, undefined);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new Error(`${name} must be a number (got ${JSON.stringify(value)})`);
  return number;
}

export function envShare(name, fallback) {
  const share = envNumber(name, fallback);
  if (share < 0 || share > 1) throw new Error(`${name} must be between 0 and 1 (got ${share})`);
  return share;
}

export const settings = {
  /** One edge, or several separated by commas (replicas without a load balancer): iterations rotate over them. */
  baseUrls: envString('BASE_URL', 'http://127.0.0.1:8080')
    .split(',')
    .map((url) => url.trim().replace(/\/+$/, ''))
    .filter(Boolean),
  /** A Host header, for an Ingress reached by address rather than by its host name. */
  host: envString('HOST_HEADER', ''),
  /**
   * The edge's API key, sent as `Authorization: Bearer <key>` on every request when set. A comma-separated list (the
   * Secret edge-api-keys as it is) sends its first key.
   */
  apiKey: envString('API_KEY', '').split(',')[0].trim(),
  timeout: envString('REQUEST_TIMEOUT', '10s'),
  retryShare: envShare('RETRY_SHARE', 0.05),
  maxRetries: envNumber('MAX_RETRIES', 3),
  retryWaitMaxSeconds: envNumber('RETRY_WAIT_MAX_S', 2),
  idHeaderShare: envShare('ID_HEADER_SHARE', 0.5),
  noIdShare: envShare('NO_ID_SHARE', 0.05),
  invalidShare: envShare('INVALID_SHARE', 0.01),
  spanishShare: envShare('SPANISH_SHARE', 0.4),
  summaryFile: envString('SUMMARY_FILE', ''),
};

// ---------------------------------------------------------------------------------------------------- generator

const seed = envNumber('SEED', Math.floor(Math.random() * 2 ** 31));
let randomFor = null;
function random() {
  if (randomFor === null) randomFor = prng(seed * 7919 + exec.vu.idInTest);
  return randomFor();
}
const generator = messageGenerator(random, settings.spanishShare);
const chance = (share) => share > 0 && random() < share;

/** One realistic, valid message: weighted country, a weather word in English or Spanish, a fitting description. */
export const message = () => generator.message();
/** An invalid message, one of the mistakes clients make: the edge must answer 400 and count nothing. */
export const invalidMessage = () => generator.invalidMessage();

// ---------------------------------------------------------------------------------------------------- metrics

/** Distinct client ids that got at least one 202: each must be counted exactly once in each store. */
export const idsAccepted = new Counter('ids_accepted');
/** Messages without a client id that got a 202 (the edge gave them an id the runner cannot see). */
export const anonymousAccepted = new Counter('anonymous_accepted');
/**
 * Messages that never got a 202 but may have been published (a 503, a timeout, a broken connection: the edge
 * cannot know either): each is counted once or not at all. With a client id they are in `ids_unresolved`.
 */
export const idsUnresolved = new Counter('ids_unresolved');
export const anonymousUnresolved = new Counter('anonymous_unresolved');
/** Deliberately invalid messages the edge rejected with 400, as it must. */
export const invalidRejected = new Counter('invalid_rejected');
/** Sends of an id that was sent before: duplicates (a client retrying after a lost answer) and retries after 429/503. */
export const duplicateSends = new Counter('duplicate_sends');
export const retrySends = new Counter('retry_sends');

// ---------------------------------------------------------------------------------------------------- sending

/** The edge this iteration talks to (retries and duplicates go to the same one). */
function target() {
  const urls = settings.baseUrls;
  return urls.length === 1 ? urls[0] : urls[exec.scenario.iterationInTest % urls.length];
}

const jsonHeaders = { 'Content-Type': 'application/json' };

/** The Host (an Ingress reached by address) and the API key, on every request that has them set. */
function authHeaders() {
  const headers = {};
  if (settings.host) headers.Host = settings.host;
  if (settings.apiKey) headers.Authorization = `Bearer ${settings.apiKey}`;
  return headers;
}
const accepted = http.expectedStatuses(202);
const badRequest = http.expectedStatuses(400);

function params(kind, name, headers, expected) {
  const all = { ...jsonHeaders, ...authHeaders(), ...headers };
  return { headers: all, tags: { kind, name }, timeout: settings.timeout, responseCallback: expected };
}

/** 429 and 503 ask the client to come back (Retry-After); anything else is final. */
const retryable = (status) => status === 429 || status === 503;
/** No answer, or a 5xx: the messages may have been published anyway. */
const ambiguous = (status) => status === 0 || status >= 500;

function waitBeforeRetry(response, attempt) {
  const header = Number(response.headers['Retry-After']);
  const seconds = Number.isFinite(header) && header > 0 ? header : 0.1 * 2 ** attempt;
  sleep(Math.min(seconds, settings.retryWaitMaxSeconds) * (0.5 + random() / 2));
}

/**
 * Sends `body` to `path`; retries 429/503 with the same id up to MAX_RETRIES times. Returns the final response
 * and whether any attempt may have published the message without a 202.
 */
function sendWithRetries(path, body, headers, name) {
  let mayHavePublished = false;
  let response = http.post(`${target()}${path}`, body, params('first', name, headers, accepted));
  for (let attempt = 0; retryable(response.status) && attempt < settings.maxRetries; attempt += 1) {
    check(response, {
      'a 429/503 says when to retry (Retry-After)': (r) => r.headers['Retry-After'] !== undefined,
    });
    mayHavePublished ||= ambiguous(response.status);
    waitBeforeRetry(response, attempt);
    retrySends.add(1);
    response = http.post(`${target()}${path}`, body, params('retry', name, headers, accepted));
  }
  if (response.status !== 202) mayHavePublished ||= ambiguous(response.status);
  return { response, mayHavePublished };
}

/** The id of this iteration, unique in the whole test. */
export function iterationId(runId) {
  return `${runId}-${exec.scenario.name}-${exec.scenario.iterationInTest}`;
}

/** One client sending one message to POST /input: most with an id, a share retried, a share invalid. */
export function sendOne(runId, force = {}) {
  if (force.invalid ?? chance(settings.invalidShare)) {
    const response = http.post(
      `${target()}/input`,
      JSON.stringify(invalidMessage()),
      params('invalid', 'POST /input', {}, badRequest),
    );
    if (
      check(response, {
        'an invalid message is a 400 invalid_message': (r) => isError(r, 400, 'invalid_message'),
      })
    )
      invalidRejected.add(1);
    return;
  }
  const body = message();
  const headers = {};
  let id;
  if (!chance(settings.noIdShare)) {
    id = iterationId(runId);
    if (chance(settings.idHeaderShare)) headers['Idempotency-Key'] = id;
    else body.id = id;
  }
  const text = JSON.stringify(body);
  const first = sendWithRetries('/input', text, headers, 'POST /input');
  let { mayHavePublished } = first;
  let acceptedOnce = first.response.status === 202;
  check(first.response, {
    'a message is accepted (202)': (r) => r.status === 202,
    'the answer carries the id': (r) => r.status !== 202 || id === undefined || r.json('id') === id,
  });
  if (id !== undefined && (force.duplicate ?? chance(settings.retryShare))) {
    // A client that lost the answer sends the same message again: accepted again, never counted twice.
    duplicateSends.add(1);
    const again = http.post(`${target()}/input`, text, params('duplicate', 'POST /input', headers, accepted));
    check(again, {
      'a duplicate is accepted with the same id': (r) => r.status === 202 && r.json('id') === id,
    });
    acceptedOnce ||= again.status === 202;
    mayHavePublished ||= ambiguous(again.status);
  }
  tally(acceptedOnce ? 1 : 0, mayHavePublished, id !== undefined, 1);
}

/** One client sending a batch to POST /input/batch: every item with its own id, a share duplicated in the batch. */
export function sendBatch(runId, size, duplicateShare) {
  const base = iterationId(runId);
  const items = [];
  let distinct = 0;
  for (let i = 0; i < size; i += 1) {
    const item = message();
    if (i > 0 && chance(duplicateShare)) {
      item.id = items[Math.floor(random() * i)].id; // the same id twice in one batch: counted once
    } else {
      item.id = `${base}-${i}`;
      distinct += 1;
    }
    items.push(item);
  }
  const text = JSON.stringify(items);
  const first = sendWithRetries('/input/batch', text, {}, 'POST /input/batch');
  let { mayHavePublished } = first;
  let acceptedOnce = first.response.status === 202;
  check(first.response, {
    'a batch is accepted (202)': (r) => r.status === 202,
    'the answer has every id, in order': (r) =>
      r.status !== 202 || JSON.stringify(r.json('ids')) === JSON.stringify(items.map((m) => m.id)),
  });
  if (chance(settings.retryShare)) {
    duplicateSends.add(1);
    const again = http.post(
      `${target()}/input/batch`,
      text,
      params('duplicate', 'POST /input/batch', {}, accepted),
    );
    check(again, { 'a duplicate batch is accepted': (r) => r.status === 202 });
    acceptedOnce ||= again.status === 202;
    mayHavePublished ||= ambiguous(again.status);
  }
  tally(acceptedOnce ? distinct : 0, mayHavePublished, true, distinct);
}

function tally(acceptedCount, mayHavePublished, withId, size) {
  if (acceptedCount > 0) (withId ? idsAccepted : anonymousAccepted).add(acceptedCount);
  else if (mayHavePublished) (withId ? idsUnresolved : anonymousUnresolved).add(size);
}

function isError(response, status, code) {
  if (response.status !== status) return false;
  try {
    return response.json('error.code') === code;
  } catch {
    return false;
  }
}

/** Fails the test at once (before any load) when the edge is not there or not ready. */
export function checkReady() {
  const headers = authHeaders();
  for (const url of settings.baseUrls) {
    const ready = http.get(`${url}/ready`, { headers, tags: { name: 'GET /ready', kind: 'probe' } });
    if (ready.status !== 200) {
      throw new Error(`${url}/ready answered ${ready.status || ready.error}: is the system running?`);
    }
  }
}

export function setup() {
  checkReady();
  return { runId: envString('RUN_ID', `k6${Date.now().toString(36)}`) };
}

// ---------------------------------------------------------------------------------------------------- options

export const summaryTrendStats = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'max', 'count'];

/**
 * Options every scenario shares: one k6 scenario, and thresholds on the error rate (429/503/timeouts count as
 * errors), the latency of first attempts (retries wait on purpose) and the share of passed checks. Each scenario
 * gives its own defaults; ERROR_RATE, P95_MS and P99_MS override them.
 */
let scenarioName = 'scenario';

export function options(name, scenario, limits = {}) {
  scenarioName = name;
  const errorRate = envNumber('ERROR_RATE', limits.errorRate ?? 0.01);
  const p95 = envNumber('P95_MS', limits.p95Ms ?? 500);
  const p99 = envNumber('P99_MS', limits.p99Ms ?? 1500);
  return {
    scenarios: { [name]: scenario },
    thresholds: {
      http_req_failed: [`rate<${errorRate}`],
      'http_req_duration{kind:first}': [`p(95)<${p95}`, `p(99)<${p99}`],
      checks: ['rate>0.99'],
    },
    summaryTrendStats,
    setupTimeout: '30s',
  };
}

// ---------------------------------------------------------------------------------------------------- summary

const value = (data, metric, stat) => data.metrics[metric]?.values?.[stat] ?? 0;
const ms = (n) => `${n.toFixed(n < 10 ? 2 : 1)} ms`;

/** A short text summary on stdout, and the whole summary as JSON in SUMMARY_FILE (for the runner and the bench). */
export function handleSummary(data) {
  const duration = 'http_req_duration{kind:first}';
  const tandem = {
    scenario: scenarioName,
    runId: data.setup_data?.runId,
    baseUrl: settings.baseUrls.join(','),
    idsAccepted: value(data, 'ids_accepted', 'count'),
    anonymousAccepted: value(data, 'anonymous_accepted', 'count'),
    idsUnresolved: value(data, 'ids_unresolved', 'count'),
    anonymousUnresolved: value(data, 'anonymous_unresolved', 'count'),
    invalidRejected: value(data, 'invalid_rejected', 'count'),
    duplicateSends: value(data, 'duplicate_sends', 'count'),
    retrySends: value(data, 'retry_sends', 'count'),
  };
  const failedThresholds = [];
  for (const [metric, { thresholds: results }] of Object.entries(data.metrics)) {
    for (const [expression, result] of Object.entries(results ?? {})) {
      if (!result.ok) failedThresholds.push(`${metric} ${expression}`);
    }
  }
  const lines = [
    '',
    `tandem k6 summary: ${scenarioName}, run ${tandem.runId} against ${settings.baseUrls.join(', ')}`,
    `  requests        ${value(data, 'http_reqs', 'count')} (${value(data, 'http_reqs', 'rate').toFixed(1)}/s), failed ${(100 * value(data, 'http_req_failed', 'rate')).toFixed(2)}%`,
    `  latency (first) p50 ${ms(value(data, duration, 'med'))}  p95 ${ms(value(data, duration, 'p(95)'))}  p99 ${ms(value(data, duration, 'p(99)'))}  max ${ms(value(data, duration, 'max'))}`,
    `  iterations      ${value(data, 'iterations', 'count')}, dropped ${value(data, 'dropped_iterations', 'count')} (no free VU at the scheduled time)`,
    `  ids accepted    ${tandem.idsAccepted} (+${tandem.anonymousAccepted} without client id), unresolved ${tandem.idsUnresolved + tandem.anonymousUnresolved}`,
    `  resent          ${tandem.duplicateSends} duplicates, ${tandem.retrySends} retries; ${tandem.invalidRejected} invalid rejected`,
    `  checks          ${(100 * value(data, 'checks', 'rate')).toFixed(2)}% passed`,
    failedThresholds.length
      ? `  THRESHOLDS FAILED: ${failedThresholds.join('; ')}`
      : '  thresholds      all passed',
    '',
  ];
  const out = { stdout: lines.join('\n') };
  if (settings.summaryFile) out[settings.summaryFile] = JSON.stringify({ ...data, tandem }, null, 2);
  return out;
}
