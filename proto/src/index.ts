// The gRPC contract of tandem: the .proto, the options to load it with, and the types generated from it.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/weather.ts';

/** Absolute path of weather.proto, the single source of the contract. */
export const protoPath = fileURLToPath(new URL('../weather/weather.proto', import.meta.url));

/**
 * How every service loads the .proto. Must match the generator flags in scripts/generate.ts, or the generated
 * types lie: field names as written (accepted_at_ms), int64 as number (unix ms fits easily), defaults filled in.
 */
export const loaderOptions = Object.freeze({
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
} satisfies protoLoader.Options);

let weatherPackage: ProtoGrpcType | undefined;

/** The typed package: `.weather` holds the message types and the WeatherService client constructor. Loaded once. */
export function loadWeatherPackage(): ProtoGrpcType {
  weatherPackage ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(protoPath, loaderOptions),
  ) as unknown as ProtoGrpcType;
  return weatherPackage;
}

export type {
  WeatherBatchResponse,
  WeatherBatchResponse__Output,
} from './generated/weather/WeatherBatchResponse.ts';
export type { WeatherResponse, WeatherResponse__Output } from './generated/weather/WeatherResponse.ts';
export type { WeatherResult, WeatherResult__Output } from './generated/weather/WeatherResult.ts';
export type { WeatherResults, WeatherResults__Output } from './generated/weather/WeatherResults.ts';
export type {
  WeatherServiceClient,
  WeatherServiceDefinition,
  WeatherServiceHandlers,
} from './generated/weather/WeatherService.ts';
export type { WeatherTweet, WeatherTweet__Output } from './generated/weather/WeatherTweet.ts';
export type { WeatherTweetBatch, WeatherTweetBatch__Output } from './generated/weather/WeatherTweetBatch.ts';
export type { WeatherTweets, WeatherTweets__Output } from './generated/weather/WeatherTweets.ts';
export type { ProtoGrpcType } from './generated/weather.ts';
export { HealthClient, healthHandlers, healthService, type ServingStatus } from './health.ts';
export { httpStatusOfGrpc, weatherHttpPaths } from './http.ts';
