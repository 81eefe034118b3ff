/**
 * Client input: what a POST /input body (or a WeatherTweet from a client of the original system) may hold, and the
 * one normalised form every service works with. The edge and the ingest both call `parseMessageInput`, so its output
 * must parse again to itself (it is idempotent), or the two would disagree on what was counted.
 *
 * Rules (docs/architecture.md, "The message"), lengths in Unicode code points after trimming:
 * - `description`: string, trimmed, 1..500.
 * - `country`: string, trimmed, NFC-normalised, runs of spaces collapsed to one, upper-cased, 1..56; only letters
 *   (any script, with their combining marks, e.g. "PERÚ", "भारत"), spaces, `.`, `'` and `-`, and at least one letter.
 *   NFC and the space collapsing exist so that one country is one counter key however a client typed it.
 * - `weather`: a key of `WEATHERS` or one of its Spanish aliases, case-insensitively; normalised to the key.
 * - `id` (optional): see `isValidId`. Never trimmed or changed: it is the idempotency key. `null` counts as absent.
 * - No string may hold control characters (Unicode Cc: U+0000–U+001F, U+007F–U+009F) once trimmed, nor lone UTF-16
 *   surrogates (a JSON `"\ud800"` escape), which no broker could carry as UTF-8 unchanged.
 *
 * Unknown fields are ignored, as the original system did, so its clients keep working; the value returned is a
 * fresh object holding only the known fields, and only the body's OWN properties are read. A `__proto__`,
 * `constructor` or `prototype` key is therefore just another ignored field: nothing is merged, nothing inherited.
 *
 * Issue codes (`Issue.code`): `invalid_type` (not an object / not a string), `required`, `too_short`, `too_long`,
 * `invalid_characters`, `invalid_weather`, `invalid_id`. `Issue.field` is the field name, or '' for the value as a
 * whole. Messages never echo the client's value.
 */
import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** A validated, normalised message as a client sent it (no accepted-at time yet; the id may still be missing). */
export interface MessageInput {
  description: string;
  country: string;
  weather: string;
  id?: string;
}

export interface Issue {
  /** The field, e.g. `country`; '' for the value as a whole. */
  field: string;
  /** Machine-readable, one of the codes listed at the top of this module. */
  code: string;
  /** For humans; never contains the client's value. */
  message: string;
}

export type ParseResult = { ok: true; value: MessageInput } | { ok: false; issues: Issue[] };

const MAX_DESCRIPTION_LENGTH = 500;
const MAX_COUNTRY_LENGTH = 56;
/** Longest client id; a UUID (36) and the usual idempotency keys fit easily. */
export const MAX_ID_LENGTH = 128;

const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
const CONTROL = /\p{Cc}/u;
const COUNTRY_PATTERN = /^[\p{L}\p{M} .'-]+$/u;
const LETTER = /\p{L}/u;

const foldCase = (value: string) => value.trim().toLowerCase().normalize('NFC');

/**
 * The weather values that are counted, in this order, each with the Spanish words the original system's clients
 * send; matched case-insensitively. One list, here: the edge and the ingest both parse with it, so that they cannot
 * disagree on what counts.
 */
export const WEATHERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  Sunny: Object.freeze(['Soleado']),
  Cloudy: Object.freeze(['Nublado', 'Nubloso']),
  Rainy: Object.freeze(['Lluvioso']),
});

// A Map, not an object: a client's "__proto__" or "constructor" must never find anything.
const weatherOf = new Map(
  Object.entries(WEATHERS).flatMap(([name, aliases]) =>
    [name, ...aliases].map((spelling) => [foldCase(spelling), name] as const),
  ),
);

/** The counted weather value for `value` (trimmed, any case, an alias or the value itself), or undefined. */
export function normaliseWeather(value: string): string | undefined {
  return weatherOf.get(foldCase(value));
}

const WEATHER_RULE =
  `weather must be one of ${Object.keys(WEATHERS).join(', ')}` +
  ` (also accepted: ${Object.values(WEATHERS).flat().join(', ')}), in any case`;

/**
 * A client id (body `id` or `Idempotency-Key`): 1..128 characters, each an ASCII letter, digit, `.`, `_`, `:` or `-`.
 * Enough for UUIDs, ULIDs and `client:sequence` keys, and safe as a Kafka key, an AMQP message-id, a Redis key part
 * and in a log line, with no escaping and no Unicode look-alikes.
 */
export function isValidId(id: string): boolean {
  return typeof id === 'string' && id.length >= 1 && id.length <= MAX_ID_LENGTH && ID_PATTERN.test(id);
}

/** Random bytes for 256 ids, drawn at once: uuid draws 16 per id through crypto.getRandomValues, ~15 µs each. */
const random = new Uint8Array(16 * 256);
let used = random.length;
/** uuid's own monotonic state (time, then a counter within the same millisecond), kept here: with the random bytes
 * given, uuid keeps none. */
const clock = { msecs: -1, seq: 0 };

/** A new time-ordered id (UUIDv7, RFC 9562 method 1: a 32-bit counter seeded at random each millisecond). */
export function newMessageId(): string {
  if (used === random.length) {
    randomFillSync(random);
    used = 0;
  }
  const bytes = random.subarray(used, used + 16);
  used += 16;
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    // As uuid seeds it: 31 random bits, so that the counter has room to grow within the millisecond.
    clock.seq =
      (((bytes[6] as number) & 0x7f) << 24) |
      ((bytes[7] as number) << 16) |
      ((bytes[8] as number) << 8) |
      (bytes[9] as number);
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  return uuidv7({ random: bytes, msecs: clock.msecs, seq: clock.seq });
}

/** Validates and normalises one message. Never throws, whatever `body` is. */
export function parseMessageInput(body: unknown): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      issues: [{ field: '', code: 'invalid_type', message: `expected a JSON object, got ${kind(body)}` }],
    };
  }
  const issues: Issue[] = [];
  const record = body as Record<string, unknown>;

  const description = text(own(record, 'description'), 'description', MAX_DESCRIPTION_LENGTH, issues);

  let country = text(own(record, 'country'), 'country', MAX_COUNTRY_LENGTH, issues, normaliseCountry);
  if (country !== undefined && !(COUNTRY_PATTERN.test(country) && LETTER.test(country))) {
    issues.push({
      field: 'country',
      code: 'invalid_characters',
      message: "country may hold only letters, spaces and . ' - (and at least one letter)",
    });
    country = undefined;
  }

  let weather: string | undefined;
  const rawWeather = text(own(record, 'weather'), 'weather', Number.POSITIVE_INFINITY, issues);
  if (rawWeather !== undefined) {
    weather = normaliseWeather(rawWeather);
    if (weather === undefined)
      issues.push({ field: 'weather', code: 'invalid_weather', message: WEATHER_RULE });
  }

  const rawId = own(record, 'id');
  let id: string | undefined;
  if (rawId !== undefined && rawId !== null) {
    if (typeof rawId !== 'string') {
      issues.push({ field: 'id', code: 'invalid_type', message: `id must be a string, got ${kind(rawId)}` });
    } else if (!isValidId(rawId)) {
      issues.push({ field: 'id', code: 'invalid_id', message: ID_RULE });
    } else {
      id = rawId;
    }
  }

  if (issues.length > 0 || description === undefined || country === undefined || weather === undefined) {
    return { ok: false, issues };
  }
  const value: MessageInput = { description, country, weather };
  if (id !== undefined) value.id = id;
  return { ok: true, value };
}

/** A field of the body's own, never an inherited one. */
function own(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

// NFC last: upper-casing may decompose (ΐ -> Ϊ́), and the result must parse again to itself.
const normaliseCountry = (trimmed: string) => trimmed.replace(/ {2,}/g, ' ').toUpperCase().normalize('NFC');
const unchanged = (trimmed: string) => trimmed;

const ID_RULE = `id must be 1..${MAX_ID_LENGTH} characters, each an ASCII letter, digit, '.', '_', ':' or '-'`;

/** A required string field: trimmed, checked, then `normalise`d; pushes at most one issue. */
function text(
  value: unknown,
  field: string,
  max: number,
  issues: Issue[],
  normalise: (trimmed: string) => string = unchanged,
): string | undefined {
  if (value === undefined) {
    issues.push({ field, code: 'required', message: `${field} is required` });
    return undefined;
  }
  if (typeof value !== 'string') {
    issues.push({ field, code: 'invalid_type', message: `${field} must be a string, got ${kind(value)}` });
    return undefined;
  }
  const trimmed = value.trim();
  if (CONTROL.test(trimmed) || !trimmed.isWellFormed()) {
    issues.push({
      field,
      code: 'invalid_characters',
      message: `${field} must not contain control characters or unpaired surrogates`,
    });
    return undefined;
  }
  const result = normalise(trimmed);
  if (result.length === 0) {
    issues.push({ field, code: 'too_short', message: `${field} must not be empty` });
    return undefined;
  }
  // Code points are counted only when they may be too many: a string has at most as many as UTF-16 units.
  const length = result.length > max ? codePoints(result) : result.length;
  if (length > max) {
    issues.push({
      field,
      code: 'too_long',
      message: `${field} must be at most ${max} characters (got ${length})`,
    });
    return undefined;
  }
  return result;
}

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}
