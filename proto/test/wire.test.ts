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

describe('ProcessTweets', () => {
  const definition = protoLoader.loadSync(protoPath, loaderOptions);
  const service = definition['weather.WeatherService'] as protoLoader.ServiceDefinition;
  const processTweets = service.ProcessTweets as protoLoader.MethodDefinition<object, object>;
  const processTweetBatch = service.ProcessTweetBatch as protoLoader.MethodDefinition<object, object>;

  it("takes a WeatherTweets, the same bytes as ProcessTweetBatch's WeatherTweetBatch", () => {
    const batch = { tweets: [{ ...tweet, id: 'k1', accepted_at_ms: 0 }] };
    expect(processTweets.requestSerialize(batch)).toEqual(processTweetBatch.requestSerialize(batch));
  });

  it('answers results whose fields 1-3 read as a WeatherResponse, the code beside them', () => {
    const result = { success: false, message: 'weather: required', id: 'k2', code: 3 };
    const bytes = processTweets.responseSerialize({ results: [result] });
    expect(processTweets.responseDeserialize(bytes)).toEqual({ results: [result] });
    // A WeatherResult has WeatherResponse's three fields at the same numbers, plus `code`.
    const entry = (definition['weather.WeatherResult'] as { type: object }).type as {
      field: { name: string; number: number; type: string }[];
    };
    expect(entry.field.map((f) => [f.name, f.number, f.type])).toEqual([
      ['success', 1, 'TYPE_BOOL'],
      ['message', 2, 'TYPE_STRING'],
      ['id', 3, 'TYPE_STRING'],
      ['code', 4, 'TYPE_INT32'],
    ]);
  });
});
