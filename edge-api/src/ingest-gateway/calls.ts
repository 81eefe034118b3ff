/** What the gateways (gRPC and HTTP/JSON) share, so that they treat messages and cancellation alike. */
import type { WeatherTweet } from '@tandem/proto';
import { IngestError, type IngestMessage } from './contract.ts';

/** A message as the ingest takes it: the WeatherTweet fields only, whatever else the message carries. */
export function toTweet(message: IngestMessage): WeatherTweet {
  const { description, country, weather, id } = message;
  return { description, country, weather, id };
}

/**
 * The error of a call the caller's signal aborted: the caller's reason when it is an IngestError (its deadline, or
 * its client gone), so that the edge answers what the caller decided, else `unavailable`.
 */
export function abortError(signal: AbortSignal): IngestError {
  return signal.reason instanceof IngestError
    ? signal.reason
    : new IngestError('unavailable', 'the call was cancelled', { cause: signal.reason });
}
