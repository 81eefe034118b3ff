import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  isValidId,
  MAX_ID_LENGTH,
  type MessageInput,
  newMessageId,
  normaliseWeather,
  parseMessageInput,
  WEATHERS,
} from '../src/index.ts';

const valid = { description: 'Está lloviendo', country: 'GT', weather: 'Lluvioso' };

function issuesOf(body: unknown) {
  const result = parseMessageInput(body);
  if (result.ok) throw new Error(`expected issues, got ${JSON.stringify(result.value)}`);
  return result.issues.map(({ field, code }) => ({ field, code }));
}

function accepted(body: unknown): MessageInput {
  const result = parseMessageInput(body);
  if (!result.ok) throw new Error(`expected a value, got ${JSON.stringify(result.issues)}`);
  return result.value;
}

describe('parseMessageInput: accepted and normalised', () => {
  const rainy = { description: 'Está lloviendo', country: 'GT', weather: 'Rainy' };
  // [name, fields over `valid`, fields over `rainy` expected]
  it.each<[string, Record<string, unknown>, Partial<MessageInput>]>([
    ['the original shape', {}, {}],
    [
      'trims and upper-cases',
      { description: '  hi  ', country: ' gt ' },
      { description: 'hi', country: 'GT' },
    ],
    ['Soleado → Sunny', { weather: 'Soleado' }, { weather: 'Sunny' }],
    ['Nublado → Cloudy', { weather: 'Nublado' }, { weather: 'Cloudy' }],
    ['Nubloso → Cloudy', { weather: 'Nubloso' }, { weather: 'Cloudy' }],
    ['LLUVIOSO → Rainy', { weather: 'LLUVIOSO' }, { weather: 'Rainy' }],
    ['soleado → Sunny', { weather: 'soleado' }, { weather: 'Sunny' }],
    ['canonical in any case', { weather: 'cLoUdY' }, { weather: 'Cloudy' }],
    ['weather with spaces around', { weather: ' Sunny\n' }, { weather: 'Sunny' }],
    ['Unicode letters in country', { country: 'perú' }, { country: 'PERÚ' }],
    // "peru" + U+0301 COMBINING ACUTE ACCENT: the same counter key as the precomposed Ú.
    ['country is NFC-normalised', { country: 'peru\u0301' }, { country: 'PERÚ' }],
    ['country with combining marks (Devanagari)', { country: 'भारत' }, { country: 'भारत' }],
    ["country with . ' -", { country: "St. Kitts-N'vis" }, { country: "ST. KITTS-N'VIS" }],
    ['country spaces collapsed', { country: 'costa    rica' }, { country: 'COSTA RICA' }],
    ['a client id', { id: 'client-1:42' }, { id: 'client-1:42' }],
    ['id null is absent', { id: null }, {}],
    ['unknown fields ignored', { extra: 1, acceptedAt: 5 }, {}],
    ['description of exactly 500', { description: 'x'.repeat(500) }, { description: 'x'.repeat(500) }],
    ['500 emoji are 500 characters', { description: '☔'.repeat(500) }, { description: '☔'.repeat(500) }],
    // Outside the BMP: 1,000 UTF-16 units, still 500 characters.
    [
      '500 astral emoji are 500 characters',
      { description: '🌧'.repeat(500) },
      { description: '🌧'.repeat(500) },
    ],
    ['country of exactly 56', { country: 'a'.repeat(56) }, { country: 'A'.repeat(56) }],
    ['id of exactly 128', { id: 'a'.repeat(128) }, { id: 'a'.repeat(128) }],
    ['control characters at the ends are trimmed', { description: '\thi\r\n' }, { description: 'hi' }],
  ])('%s', (_name, fields, expected) => {
    expect(accepted({ ...valid, ...fields })).toStrictEqual({ ...rainy, ...expected });
  });

  it('returns a fresh object with only the known fields', () => {
    const body = { ...valid, id: 'a', extra: { nested: true } };
    const value = accepted(body);
    expect(Object.keys(value).sort()).toEqual(['country', 'description', 'id', 'weather']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(value).not.toBe(body);
  });

  it('is idempotent: the ingest re-parses what the edge produced and gets the same', () => {
    const tricky = [
      '  perú ',
      'peru\u0301',
      'ΐσλανδία',
      'straße',
      'ǰava',
      'costa    rica',
      "côte d'ivoire",
      'भारत',
    ];
    for (const country of tricky) {
      const once = accepted({ ...valid, country, weather: 'nubloso', id: 'x' });
      expect(accepted(once)).toStrictEqual(once);
    }
  });
});

describe('parseMessageInput: rejected', () => {
  const long = (n: number) => 'x'.repeat(n);

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'hello'],
    ['a number', 42],
    ['undefined', undefined],
    ['an array', [valid]],
  ])('%s as the body', (_name, body) => {
    expect(issuesOf(body)).toEqual([{ field: '', code: 'invalid_type' }]);
  });

  // [name, fields over `valid`, the one field with an issue, its code]
  it.each<[string, Record<string, unknown>, string, string]>([
    ['description a number', { description: 5 }, 'description', 'invalid_type'],
    ['description null', { description: null }, 'description', 'invalid_type'],
    ['description an object', { description: { a: 1 } }, 'description', 'invalid_type'],
    ['description blank', { description: '   ' }, 'description', 'too_short'],
    ['description 501', { description: long(501) }, 'description', 'too_long'],
    ['description 501 astral emoji', { description: '🌧'.repeat(501) }, 'description', 'too_long'],
    ['description NUL', { description: 'a\u0000b' }, 'description', 'invalid_characters'],
    ['description inner newline', { description: 'a\nb' }, 'description', 'invalid_characters'],
    ['description DEL', { description: 'a\u007fb' }, 'description', 'invalid_characters'],
    ['description C1 control', { description: 'a\u0085b' }, 'description', 'invalid_characters'],
    ['description lone surrogate', { description: 'a\ud800b' }, 'description', 'invalid_characters'],
    ['country missing', { country: undefined }, 'country', 'required'],
    ['country boolean', { country: true }, 'country', 'invalid_type'],
    ['country empty', { country: '' }, 'country', 'too_short'],
    ['country 57', { country: long(57) }, 'country', 'too_long'],
    ['country digits', { country: 'GT1' }, 'country', 'invalid_characters'],
    ['country punctuation only', { country: ".'-" }, 'country', 'invalid_characters'],
    ['country with a slash', { country: 'A/B' }, 'country', 'invalid_characters'],
    ['country with a tab inside', { country: 'A\tB' }, 'country', 'invalid_characters'],
    ['country with emoji', { country: 'GT🌧' }, 'country', 'invalid_characters'],
    ['country with a no-break space inside', { country: 'A\u00a0B' }, 'country', 'invalid_characters'],
    ['weather unknown', { weather: 'Snowy' }, 'weather', 'invalid_weather'],
    ['weather empty', { weather: '' }, 'weather', 'too_short'],
    ['weather a number', { weather: 1 }, 'weather', 'invalid_type'],
    ['weather "__proto__"', { weather: '__proto__' }, 'weather', 'invalid_weather'],
    ['weather "constructor"', { weather: 'constructor' }, 'weather', 'invalid_weather'],
    ['weather "toString"', { weather: 'toString' }, 'weather', 'invalid_weather'],
    ['id a number', { id: 7 }, 'id', 'invalid_type'],
    ['id empty', { id: '' }, 'id', 'invalid_id'],
    ['id with a space', { id: 'a b' }, 'id', 'invalid_id'],
    ['id 129', { id: long(129) }, 'id', 'invalid_id'],
  ])('%s', (_name, fields, field, code) => {
    const body: Record<string, unknown> = { ...valid, ...fields };
    for (const [name, value] of Object.entries(fields)) if (value === undefined) delete body[name];
    expect(issuesOf(body)).toEqual([{ field, code }]);
  });

  it('counts a too long value in characters, not UTF-16 units', () => {
    const result = parseMessageInput({ ...valid, description: '🌧'.repeat(501) });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues[0]?.message).toBe('description must be at most 500 characters (got 501)');
  });

  it('reports every field of an empty object as required', () => {
    expect(issuesOf({})).toEqual([
      { field: 'description', code: 'required' },
      { field: 'country', code: 'required' },
      { field: 'weather', code: 'required' },
    ]);
  });

  it('reports several problems at once, in field order', () => {
    expect(issuesOf({ description: '', country: 1, weather: 'Hail', id: '/' })).toEqual([
      { field: 'description', code: 'too_short' },
      { field: 'country', code: 'invalid_type' },
      { field: 'weather', code: 'invalid_weather' },
      { field: 'id', code: 'invalid_id' },
    ]);
  });

  it('lists what weather is allowed, without echoing the value', () => {
    const result = parseMessageInput({ ...valid, weather: 'Granizo-secret' });
    expect(result.ok).toBe(false);
    const message = result.ok ? '' : (result.issues[0]?.message ?? '');
    for (const name of ['Sunny', 'Cloudy', 'Rainy', 'Soleado', 'Nublado', 'Nubloso', 'Lluvioso']) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('Granizo');
  });

  it('never throws, whatever the input', () => {
    const nasty: unknown[] = [
      Symbol('s'),
      () => 1,
      1n,
      new Date(),
      new Map(),
      { description: Symbol('x'), country: 1n, weather: () => 1 },
      JSON.parse('[[[[[[[[[[[]]]]]]]]]]]'),
      Object.create(null),
    ];
    for (const body of nasty) expect(() => parseMessageInput(body)).not.toThrow();
  });
});

describe('parseMessageInput: prototype safety', () => {
  const keys = ['__proto__', 'constructor', 'prototype'];

  it.each(keys)('a JSON %s key is ignored and pollutes nothing', (key) => {
    const body = JSON.parse(
      `{"description":"d","country":"gt","weather":"Sunny","${key}":{"polluted":true,"weather":"x"}}`,
    );
    const value = accepted(body);
    expect(value).toStrictEqual({ description: 'd', country: 'GT', weather: 'Sunny' });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((value as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads only own properties, never inherited ones', () => {
    const inherited = Object.create({ description: 'from the prototype', country: 'GT', weather: 'Sunny' });
    expect(issuesOf(inherited).map((issue) => issue.code)).toEqual(['required', 'required', 'required']);
  });

  it('accepts an object without a prototype', () => {
    const body = Object.assign(Object.create(null), valid);
    expect(accepted(body).weather).toBe('Rainy');
  });
});

describe('the weathers', () => {
  it('are Sunny, Cloudy and Rainy, with their Spanish aliases', () => {
    expect(Object.keys(WEATHERS)).toEqual(['Sunny', 'Cloudy', 'Rainy']);
    expect(WEATHERS).toEqual({
      Sunny: ['Soleado'],
      Cloudy: ['Nublado', 'Nubloso'],
      Rainy: ['Lluvioso'],
    });
  });

  it.each([
    ['Sunny', 'Sunny'],
    ['sunny', 'Sunny'],
    [' NUBLOSO ', 'Cloudy'],
    ['lluvioso', 'Rainy'],
    ['Snowy', undefined],
    ['', undefined],
    ['__proto__', undefined],
    ['constructor', undefined],
  ])('normalise %j to %j', (input, expected) => {
    expect(normaliseWeather(input)).toBe(expected);
  });

  it('are unambiguous: every spelling means one value, and each value means itself', () => {
    const spellings = Object.entries(WEATHERS).flatMap(([name, aliases]) => [name, ...aliases]);
    expect(new Set(spellings.map((s) => s.toLowerCase())).size).toBe(spellings.length);
    for (const name of Object.keys(WEATHERS)) expect(normaliseWeather(name)).toBe(name);
  });

  it('are frozen', () => {
    expect(Object.isFrozen(WEATHERS)).toBe(true);
    expect(Object.isFrozen(WEATHERS.Cloudy)).toBe(true);
  });
});

describe('isValidId', () => {
  it.each([
    ['a', true],
    ['0190a5c2-7b1e-7c3d-9f00-123456789abc', true],
    ['client-7:order.42_b', true],
    ['A'.repeat(MAX_ID_LENGTH), true],
    ['', false],
    ['A'.repeat(MAX_ID_LENGTH + 1), false],
    ['a b', false],
    ['a/b', false],
    ['ä', false],
    ['a\n', false],
    ['{}', false],
    ['id*', false],
  ])('%j → %s', (id, expected) => {
    expect(isValidId(id)).toBe(expected);
  });

  it('is 128', () => {
    expect(MAX_ID_LENGTH).toBe(128);
  });
});

describe('newMessageId', () => {
  it('is a valid UUIDv7, and a valid client id', () => {
    const id = newMessageId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isValidId(id)).toBe(true);
  });

  it('is unique and time-ordered, across refills of its random bytes (256 ids each)', () => {
    const ids = Array.from({ length: 5000 }, () => newMessageId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('index', () => {
  it('re-exports the envelope', () => {
    const message = { ...accepted(valid), id: newMessageId(), acceptedAt: 1 };
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });
});
