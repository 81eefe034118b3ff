import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, PoisonMessageError, type WeatherMessage } from '../src/index.ts';

const message: WeatherMessage = {
  id: '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  description: 'Está lloviendo',
  country: 'GT',
  weather: 'Rainy',
  acceptedAt: 1_763_700_000_000,
};
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('decodeMessage', () => {
  it('reads back what encodeMessage wrote, ignoring unknown fields', () => {
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
    expect(decodeMessage(bytes({ ...message, extra: 1 }))).toEqual(message);
  });

  it.each<[string, Buffer]>([
    ['empty bytes', Buffer.alloc(0)],
    ['not JSON', Buffer.from('hello')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
    ['a JSON array', bytes([message])],
    ['JSON null', bytes(null)],
    ['a missing id', bytes({ ...message, id: undefined })],
    ['an empty country', bytes({ ...message, country: '' })],
    ['a numeric weather', bytes({ ...message, weather: 3 })],
    ['a missing acceptedAt', bytes({ ...message, acceptedAt: undefined })],
    ['a string acceptedAt', bytes({ ...message, acceptedAt: '1' })],
    // Would pass as strings, but the counting store refuses them for the whole batch: poison, not a blocked stream.
    ["a ':' in the country", bytes({ ...message, country: 'GT:SV' })],
    ['an id with a space', bytes({ ...message, id: 'has space' })],
    ['a 129-character id', bytes({ ...message, id: 'x'.repeat(129) })],
  ])('refuses %s as poison', (_name, payload) => {
    expect(() => decodeMessage(payload)).toThrow(PoisonMessageError);
  });
});
