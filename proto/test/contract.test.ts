import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWeatherPackage, protoPath } from '../src/index.ts';

describe('weather package', () => {
  it('points at the .proto by absolute path', () => {
    expect(isAbsolute(protoPath)).toBe(true);
    expect(existsSync(protoPath)).toBe(true);
  });

  it('loads once and exposes WeatherService with its three unary RPCs at their wire paths', () => {
    expect(loadWeatherPackage()).toBe(loadWeatherPackage());
    const { weather } = loadWeatherPackage();

    const { ProcessTweet, ProcessTweetBatch, ProcessTweets } = weather.WeatherService.service;
    expect(ProcessTweet.path).toBe('/weather.WeatherService/ProcessTweet');
    expect(ProcessTweetBatch.path).toBe('/weather.WeatherService/ProcessTweetBatch');
    expect(ProcessTweets.path).toBe('/weather.WeatherService/ProcessTweets');
    for (const method of [ProcessTweet, ProcessTweetBatch, ProcessTweets]) {
      expect(method.requestStream).toBe(false);
      expect(method.responseStream).toBe(false);
    }
    expect(Object.keys(weather)).toEqual(
      expect.arrayContaining([
        'WeatherTweet',
        'WeatherResponse',
        'WeatherTweetBatch',
        'WeatherBatchResponse',
        'WeatherTweets',
        'WeatherResult',
        'WeatherResults',
        'WeatherService',
      ]),
    );
  });
});
