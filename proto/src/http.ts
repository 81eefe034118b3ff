/**
 * The same WeatherService as plain HTTP/JSON, for measuring gRPC against it (bench `--ingest http`): one POST per
 * RPC at the RPC's full gRPC name, the request and response messages as JSON with the .proto's field names, and
 * the gRPC status codes the ingest uses mapped to HTTP statuses. The ingest serves it, the edge's HTTP gateway
 * calls it; both take the paths and statuses from here.
 */
import { status } from '@grpc/grpc-js';

export const weatherHttpPaths = Object.freeze({
  /** Body: a WeatherTweet; 200 answers a WeatherResponse. */
  ProcessTweet: '/weather.WeatherService/ProcessTweet',
  /** Body: a WeatherTweetBatch; 200 answers a WeatherBatchResponse. */
  ProcessTweetBatch: '/weather.WeatherService/ProcessTweetBatch',
  /** Body: a WeatherTweets; 200 answers a WeatherResults, one result per message in order. */
  ProcessTweets: '/weather.WeatherService/ProcessTweets',
  /** GET: 200 `{"status":"SERVING"}` while both brokers can take messages, else 503 `{"status":"NOT_SERVING"}`. */
  health: '/health',
});

/**
 * The HTTP status for each gRPC status the ingest answers with. An error's body is a WeatherResponse with
 * `success: false` and the reason in `message`; 429 and 503 carry Retry-After.
 */
export const httpStatusOfGrpc: Readonly<Partial<Record<status, 400 | 429 | 500 | 503 | 504>>> = Object.freeze(
  {
    [status.INVALID_ARGUMENT]: 400,
    [status.RESOURCE_EXHAUSTED]: 429,
    [status.UNAVAILABLE]: 503,
    [status.DEADLINE_EXCEEDED]: 504,
    [status.INTERNAL]: 500,
  },
);
