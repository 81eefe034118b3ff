// Clients of the original system (fields 1-3 only) and the new contract must read each other's bytes.
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { loaderOptions, protoPath } from '../src/index.ts';

const originalPath = fileURLToPath(new URL('./fixtures/original.proto', import.meta.url));

function processTweet(file: string) {
  const service = protoLoader.loadSync(file, loaderOptions)['weather.WeatherService'];
  return (service as protoLoader.ServiceDefinition).ProcessTweet as protoLoader.MethodDefinition<
    object,
    object
  >;
}

const original = processTweet(originalPath);
const current = processTweet(protoPath);

const tweet = { description: 'Está lloviendo', country: 'GT', weather: 'Rainy' };
const response = { success: true, message: 'accepted' };

describe('wire compatibility with the original contract', () => {
  it('serializes the original WeatherTweet fields to the same bytes', () => {
    expect(current.requestSerialize(tweet)).toEqual(original.requestSerialize(tweet));
  });

  it('reads an original WeatherTweet, with the new fields at their defaults', () => {
    const bytes = original.requestSerialize(tweet);
    expect(current.requestDeserialize(bytes)).toEqual({ ...tweet, id: '', accepted_at_ms: 0 });
  });

  it('lets the original contract read a new WeatherTweet, ignoring the new fields', () => {
    const bytes = current.requestSerialize({
      ...tweet,
      id: '0190d3a4-7b1c-7cc2-9f1e-5d2a3b4c5d6e',
      accepted_at_ms: 1_732_000_000_123,
    });
    expect(original.requestDeserialize(bytes)).toEqual(tweet);
  });

  it('keeps accepted_at_ms a number through the wire', () => {
    const bytes = current.requestSerialize({ ...tweet, id: 'k1', accepted_at_ms: 1_732_000_000_123 });
    expect(current.requestDeserialize(bytes)).toEqual({
      ...tweet,
      id: 'k1',
      accepted_at_ms: 1_732_000_000_123,
    });
  });

  it('serializes the original WeatherResponse fields to the same bytes', () => {
    expect(current.responseSerialize(response)).toEqual(original.responseSerialize(response));
  });

  it('reads an original WeatherResponse, with id empty', () => {
    const bytes = original.responseSerialize(response);
    expect(current.responseDeserialize(bytes)).toEqual({ ...response, id: '' });
  });

  it('lets the original contract read a new WeatherResponse, ignoring id', () => {
    const bytes = current.responseSerialize({ ...response, id: 'k1' });
    expect(original.responseDeserialize(bytes)).toEqual(response);
  });
});
