/**
 * The HTTP contract's bad-input and routing cases as tables, shared: `app.test.ts` runs them in-process against an
 * in-memory ingest, and the fault suite (`faults/test/hostile.test.ts`) against the running edge with the real
 * brokers behind it. Each bad-input case must get its 4xx and its error code, and nothing may be published.
 */
import { defaults } from '../src/app.ts';

export type Body = string | Uint8Array | ReadableStream<Uint8Array> | null;

export const JSON_TYPE = { 'Content-Type': 'application/json' };
export const message = { description: 'Está lloviendo', country: 'GT', weather: 'Lluvioso' };
export const json = (value: unknown) => JSON.stringify(value);
export const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** [name, path, body, headers, status, error code] */
export type BadInputCase = [string, string, Body, Record<string, string>, number, string];

export const badInputCases: BadInputCase[] = (() => {
  const big = 'x'.repeat(defaults.maxBodyBytes);
  const bigBatch = json(Array.from({ length: 400 }, () => ({ ...message, description: 'd'.repeat(2700) })));
  const badUtf8 = (prefix: string, bytes: number[], suffix: string) =>
    new Uint8Array([...Buffer.from(prefix), ...bytes, ...Buffer.from(suffix)]);
  // biome-ignore format: one case per line reads as a table
  const cases: BadInputCase[] = [
    // 415
    ['no Content-Type', '/input', json(message), {}, 415, 'unsupported_media_type'],
    ['text/plain', '/input', json(message), { 'Content-Type': 'text/plain' }, 415, 'unsupported_media_type'],
    ['a form', '/input', 'a=1', { 'Content-Type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
    ['JSON in Latin-1', '/input', json(message), { 'Content-Type': 'application/json; charset=latin1' }, 415, 'unsupported_media_type'],
    ['application/jsonx', '/input', json(message), { 'Content-Type': 'application/jsonx' }, 415, 'unsupported_media_type'],
    ['a gzipped body', '/input', json(message), { ...JSON_TYPE, 'Content-Encoding': 'gzip' }, 415, 'unsupported_media_type'],
    ['a batch as text', '/input/batch', json([message]), { 'Content-Type': 'text/plain' }, 415, 'unsupported_media_type'],
    // 413
    ['a body over 64 KiB', '/input', json({ ...message, description: big }), JSON_TYPE, 413, 'body_too_large'],
    ['a declared length over 64 KiB', '/input', json(message), { ...JSON_TYPE, 'Content-Length': '70000' }, 413, 'body_too_large'],
    ['a batch body over 1 MiB', '/input/batch', bigBatch, JSON_TYPE, 413, 'body_too_large'],
    ['a batch of 501', '/input/batch', json(Array.from({ length: 501 }, () => message)), JSON_TYPE, 413, 'batch_too_large'],
    // 400: not JSON
    ['broken JSON', '/input', '{"description": "x",', JSON_TYPE, 400, 'invalid_json'],
    ['an empty body', '/input', '', JSON_TYPE, 400, 'invalid_json'],
    ['only whitespace', '/input', '  \n', JSON_TYPE, 400, 'invalid_json'],
    ['trailing garbage', '/input', `${json(message)}x`, JSON_TYPE, 400, 'invalid_json'],
    ['two documents', '/input', `${json(message)}${json(message)}`, JSON_TYPE, 400, 'invalid_json'],
    ['JSON with comments', '/input', '{/* c */}', JSON_TYPE, 400, 'invalid_json'],
    ['broken batch JSON', '/input/batch', '[{"a":1},', JSON_TYPE, 400, 'invalid_json'],
    // 400: not UTF-8
    ['a 0xFF byte', '/input', badUtf8('{"description":"', [0xff], '","country":"GT","weather":"Sunny"}'), JSON_TYPE, 400, 'invalid_encoding'],
    ['an overlong encoding', '/input', badUtf8('{"description":"', [0xc0, 0xaf], '"}'), JSON_TYPE, 400, 'invalid_encoding'],
    ['an encoded surrogate', '/input', badUtf8('{"description":"', [0xed, 0xa0, 0x80], '"}'), JSON_TYPE, 400, 'invalid_encoding'],
    ['a truncated sequence', '/input', badUtf8('{"description":"', [0xe2, 0x98], '"}'), JSON_TYPE, 400, 'invalid_encoding'],
    ['Latin-1 bytes in a batch', '/input/batch', badUtf8('[{"country":"PER', [0xda], '"}]'), JSON_TYPE, 400, 'invalid_encoding'],
    // 400: not a message
    ['an array on /input', '/input', json([message]), JSON_TYPE, 400, 'invalid_message'],
    ['a string', '/input', '"hello"', JSON_TYPE, 400, 'invalid_message'],
    ['null', '/input', 'null', JSON_TYPE, 400, 'invalid_message'],
    ['a number', '/input', '42', JSON_TYPE, 400, 'invalid_message'],
    ['an empty object', '/input', '{}', JSON_TYPE, 400, 'invalid_message'],
    ['a wrong type', '/input', json({ ...message, country: 502 }), JSON_TYPE, 400, 'invalid_message'],
    ['an unknown weather', '/input', json({ ...message, weather: 'Snowy' }), JSON_TYPE, 400, 'invalid_message'],
    ['a control character', '/input', json({ ...message, description: 'a\u0000b' }), JSON_TYPE, 400, 'invalid_message'],
    ['an escaped lone surrogate', '/input', '{"description":"\\ud800","country":"GT","weather":"Sunny"}', JSON_TYPE, 400, 'invalid_message'],
    ['a 501-character description', '/input', json({ ...message, description: 'x'.repeat(501) }), JSON_TYPE, 400, 'invalid_message'],
    ['digits in country', '/input', json({ ...message, country: 'G7' }), JSON_TYPE, 400, 'invalid_message'],
    ['fields only under __proto__', '/input', `{"__proto__":${json(message)}}`, JSON_TYPE, 400, 'invalid_message'],
    ['deep nesting in a field', '/input', `{"description":${nested(20_000)},"country":"GT","weather":"Sunny"}`, JSON_TYPE, 400, 'invalid_message'],
    ['deep nesting as the body', '/input', nested(30_000), JSON_TYPE, 400, 'invalid_message'],
    ['a bad body id', '/input', json({ ...message, id: 'has space' }), JSON_TYPE, 400, 'invalid_message'],
    // 400: ids
    ['a bad Idempotency-Key', '/input', json(message), { ...JSON_TYPE, 'Idempotency-Key': 'a/b' }, 400, 'invalid_id'],
    ['an empty Idempotency-Key', '/input', json(message), { ...JSON_TYPE, 'Idempotency-Key': '' }, 400, 'invalid_id'],
    ['a 129-character Idempotency-Key', '/input', json(message), { ...JSON_TYPE, 'Idempotency-Key': 'k'.repeat(129) }, 400, 'invalid_id'],
    ['body id and header differ', '/input', json({ ...message, id: 'a' }), { ...JSON_TYPE, 'Idempotency-Key': 'b' }, 400, 'id_conflict'],
    ['Idempotency-Key on a batch', '/input/batch', json([message]), { ...JSON_TYPE, 'Idempotency-Key': 'k' }, 400, 'idempotency_key_not_supported'],
    // 400: batches
    ['an object as a batch', '/input/batch', json(message), JSON_TYPE, 400, 'invalid_batch'],
    ['an empty batch', '/input/batch', '[]', JSON_TYPE, 400, 'invalid_batch'],
    ['null as a batch', '/input/batch', 'null', JSON_TYPE, 400, 'invalid_batch'],
    ['one bad message in a batch', '/input/batch', json([message, { ...message, weather: 'Hail' }, message]), JSON_TYPE, 400, 'invalid_message'],
    ['deep nesting as a batch item', '/input/batch', `[${nested(100_000)}]`, JSON_TYPE, 400, 'invalid_message'],
  ];

  return cases;
})();

/** [method, path]: answered 404 not_found. */
export const notFoundCases: [string, string][] = [
  ['GET', '/'],
  ['GET', '/nope'],
  ['POST', '/input/'],
  ['POST', '/inputs'],
  ['POST', '/input/batch/1'],
  ['GET', '/health/x'],
];

/** [method, path, Allow]: answered 405 method_not_allowed with that Allow header. */
export const methodNotAllowedCases: [string, string, string][] = [
  ['GET', '/input', 'POST'],
  ['PUT', '/input', 'POST'],
  ['DELETE', '/input/batch', 'POST'],
  ['GET', '/input/batch', 'POST'],
  ['POST', '/health', 'GET, HEAD'],
  ['POST', '/ready', 'GET, HEAD'],
  ['PUT', '/metrics', 'GET, HEAD'],
  ['OPTIONS', '/input', 'POST'],
];
