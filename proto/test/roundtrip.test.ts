// A real server built from this package, called by a client of the original system and by a typed client.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loaderOptions,
  loadWeatherPackage,
  type WeatherServiceClient,
  type WeatherServiceHandlers,
  type WeatherTweet__Output,
} from '../src/index.ts';

// What a client of the original system sees: fields 1-3 only.
interface OriginalTweet {
  description: string;
  country: string;
  weather: string;
}
interface OriginalClient extends grpc.Client {
  ProcessTweet(
    tweet: OriginalTweet,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<{ success: boolean; message: string }>,
  ): grpc.ClientUnaryCall;
}
type OriginalPackage = {
  weather: { WeatherService: new (address: string, credentials: grpc.ChannelCredentials) => OriginalClient };
};

const received: WeatherTweet__Output[] = [];
const handlers: WeatherServiceHandlers = {
  ProcessTweet(call, callback) {
    received.push(call.request);
    callback(null, {
      success: true,
      message: `accepted ${call.request.country}`,
      id: call.request.id || 'assigned-0',
    });
  },
  ProcessTweetBatch(call, callback) {
    received.push(...call.request.tweets);
    const ids = call.request.tweets.map((tweet, i) => tweet.id || `assigned-${i}`);
    callback(null, { success: true, message: `accepted ${ids.length}`, ids });
  },
  ProcessTweets(call, callback) {
    received.push(...call.request.tweets);
    // Each message on its own: one without a weather is refused alone, the others accepted.
    const results = call.request.tweets.map((tweet, i) =>
      tweet.weather === ''
        ? { success: false, message: 'weather: required', id: tweet.id, code: grpc.status.INVALID_ARGUMENT }
        : { success: true, message: 'accepted', id: tweet.id || `assigned-${i}` },
    );
    callback(null, { results });
  },
};

const deadline = () => ({ deadline: Date.now() + 5_000 });
const server = new grpc.Server();
let address = '';

beforeAll(async () => {
  server.addService(loadWeatherPackage().weather.WeatherService.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) =>
    server.tryShutdown((error) => (error ? reject(error) : resolve())),
  );
});

describe('gRPC round trip', () => {
  it('serves ProcessTweet to a client of the original contract', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/original.proto', import.meta.url));
    const { weather } = grpc.loadPackageDefinition(
      protoLoader.loadSync(fixture, loaderOptions),
    ) as unknown as OriginalPackage;
    const client = new weather.WeatherService(address, grpc.credentials.createInsecure());
    try {
      const tweet = { description: 'Está lloviendo', country: 'GT', weather: 'Rainy' };
      const response = await new Promise((resolve, reject) =>
        client.ProcessTweet(tweet, deadline(), (error, value) => (error ? reject(error) : resolve(value))),
      );
      // The original client knows nothing of `id`, so it is simply not there.
      expect(response).toEqual({ success: true, message: 'accepted GT' });
      expect(received.at(-1)).toEqual({ ...tweet, id: '', accepted_at_ms: 0 });
    } finally {
      client.close();
    }
  });

  it('serves ProcessTweetBatch to a typed client, answering ids in request order', async () => {
    const { WeatherService } = loadWeatherPackage().weather;
    const client: WeatherServiceClient = new WeatherService(address, grpc.credentials.createInsecure());
    try {
      const tweets = [
        {
          description: 'Hace sol',
          country: 'GT',
          weather: 'Sunny',
          id: 'k1',
          accepted_at_ms: 1_732_000_000_001,
        },
        { description: 'Nublado', country: 'SV', weather: 'Cloudy' },
        {
          description: 'Llueve',
          country: 'HN',
          weather: 'Rainy',
          id: 'k3',
          accepted_at_ms: 1_732_000_000_003,
        },
      ];
      const response = await new Promise((resolve, reject) =>
        client.ProcessTweetBatch({ tweets }, deadline(), (error, value) =>
          error ? reject(error) : resolve(value),
        ),
      );
      expect(response).toEqual({ success: true, message: 'accepted 3', ids: ['k1', 'assigned-1', 'k3'] });
      expect(received.slice(-3)).toEqual([tweets[0], { ...tweets[1], id: '', accepted_at_ms: 0 }, tweets[2]]);
    } finally {
      client.close();
    }
  });

  it('serves ProcessTweets to a typed client, one result per message in request order', async () => {
    const { WeatherService } = loadWeatherPackage().weather;
    const client: WeatherServiceClient = new WeatherService(address, grpc.credentials.createInsecure());
    try {
      const tweets = [
        { description: 'Hace sol', country: 'GT', weather: 'Sunny', id: 'p1' },
        { description: 'Sin clima', country: 'SV', weather: '', id: 'p2' },
        { description: 'Llueve', country: 'HN', weather: 'Rainy' },
      ];
      const response = await new Promise((resolve, reject) =>
        client.ProcessTweets({ tweets }, deadline(), (error, value) =>
          error ? reject(error) : resolve(value),
        ),
      );
      // Defaults filled in on the way back (code 0 = OK), so every entry has all four fields.
      expect(response).toEqual({
        results: [
          { success: true, message: 'accepted', id: 'p1', code: 0 },
          { success: false, message: 'weather: required', id: 'p2', code: grpc.status.INVALID_ARGUMENT },
          { success: true, message: 'accepted', id: 'assigned-2', code: 0 },
        ],
      });
      expect(received.slice(-3)).toEqual(tweets.map((tweet) => ({ id: '', accepted_at_ms: 0, ...tweet })));
    } finally {
      client.close();
    }
  });
});
