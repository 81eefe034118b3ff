/** The WeatherService RPCs: the gRPC binding of the ingest (ingest.ts). */
import { type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import type {
  WeatherBatchResponse,
  WeatherResponse,
  WeatherResults,
  WeatherServiceHandlers,
  WeatherTweet__Output,
  WeatherTweetBatch__Output,
  WeatherTweets__Output,
} from '@tandem/proto';
import { type Ingest, IngestCallError } from './ingest.ts';

export function createHandlers(ingest: Ingest): WeatherServiceHandlers {
  return {
    ProcessTweet: unary<WeatherTweet__Output, WeatherResponse>((tweet) => ingest.processTweet(tweet)),
    ProcessTweetBatch: unary<WeatherTweetBatch__Output, WeatherBatchResponse>((batch) =>
      ingest.processTweetBatch(batch.tweets),
    ),
    ProcessTweets: unary<WeatherTweets__Output, WeatherResults>((batch) =>
      ingest.processTweets(batch.tweets),
    ),
  };
}

function unary<Req, Res>(work: (request: Req) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    work(call.request).then(
      (response) => callback(null, response),
      (error: unknown) =>
        callback(
          error instanceof IngestCallError
            ? { code: error.code, details: error.message }
            : { code: status.INTERNAL, details: (error as Error).message },
        ),
    );
  };
}
