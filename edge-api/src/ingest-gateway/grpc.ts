/**
 * The IngestGateway over gRPC: one WeatherService client, built once, shared by every request.
 *
 * - `dns:///host:port` with round_robin: in Kubernetes INGEST_ADDR names a headless Service, so the client resolves
 *   every ingest pod and spreads calls over them (the ingest's max_connection_age makes it re-resolve as pods come
 *   and go). Keepalive pings find dead connections between calls.
 * - A deadline on every call, sent with it (the ingest sees it too). The bound on calls in flight, the caller's
 *   abort and `success: false` are handled as for every gateway, by `IngestCalls` (calls.ts).
 * - One message → ProcessTweet (the original RPC), several → ProcessTweetBatch (all-or-nothing, ids in order);
 *   `submitOne` gathers concurrent single messages into one ProcessTweets call (each its own result).
 * - gRPC status → IngestError kind: UNAVAILABLE → unavailable, DEADLINE_EXCEEDED → deadline, RESOURCE_EXHAUSTED →
 *   overloaded, INVALID_ARGUMENT → invalid, `success: false` → unavailable (a broker did not confirm), and every
 *   other status (INTERNAL, UNKNOWN, UNIMPLEMENTED, …) → unavailable: the edge cannot tell whether the ingest
 *   published, and a retry with the same ids is safe.
 * - `isReady()`: the channel connects, and the ingest's standard health service (`grpc.health.v1.Health/Check`,
 *   on the same channel) says SERVING, i.e. both its brokers are reachable. An ingest without the health service
 *   (UNIMPLEMENTED) counts as ready once connected.
 */
import {
  type ChannelOptions,
  type ClientUnaryCall,
  credentials,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import {
  HealthClient,
  loadWeatherPackage,
  type WeatherBatchResponse__Output,
  type WeatherResponse__Output,
  type WeatherResults__Output,
  type WeatherServiceClient,
  type WeatherTweet,
} from '@tandem/proto';
import { definedOnly } from '../options.ts';
import {
  abortError,
  type IngestAnswer,
  IngestCalls,
  type IngestGatewayOptions,
  type IngestResult,
  sendEachAlone,
} from './calls.ts';
import { IngestError, type IngestGateway, type IngestMessage, ingestGatewayDefaults } from './contract.ts';

export interface GrpcIngestOptions extends IngestGatewayOptions {
  /** `host:port` (INGEST_ADDR), resolved through DNS; a target with its own scheme (`dns:`, `ipv4:`, `unix:`) as is. */
  address: string;
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  /** Extra channel options, merged over the defaults. */
  channelOptions?: ChannelOptions;
}

export const grpcIngestDefaults = Object.freeze({
  ...ingestGatewayDefaults,
  keepaliveTimeMs: 30_000,
  keepaliveTimeoutMs: 10_000,
});

/** The gRPC target for an address: `dns:///` unless it already names a resolver scheme. */
export function ingestTarget(address: string): string {
  return /^(dns|ipv4|ipv6|unix|unix-abstract|vsock):/.test(address) ? address : `dns:///${address}`;
}

export class GrpcIngestGateway implements IngestGateway {
  readonly #client: WeatherServiceClient;
  readonly #health: HealthClient;
  readonly #calls: IngestCalls;
  readonly #deadlineMs: number;
  readonly #readyTimeoutMs: number;

  constructor(options: GrpcIngestOptions) {
    const settings = { ...grpcIngestDefaults, ...definedOnly(options) };
    this.#deadlineMs = settings.deadlineMs;
    this.#readyTimeoutMs = settings.readyTimeoutMs;
    const { WeatherService } = loadWeatherPackage().weather;
    this.#client = new WeatherService(ingestTarget(options.address), credentials.createInsecure(), {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
      'grpc.keepalive_time_ms': settings.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': settings.keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
      ...options.channelOptions,
    });
    this.#health = new HealthClient(ingestTarget(options.address), credentials.createInsecure(), {
      channelOverride: this.#client.getChannel(),
    });
    this.#calls = new IngestCalls(
      settings,
      (tweets, signal) => this.#send(tweets, signal),
      (tweets, signal) => this.#sendEach(tweets, signal),
    );
  }

  submit(messages: readonly IngestMessage[], signal?: AbortSignal): Promise<void> {
    return this.#calls.submit(messages, signal);
  }

  submitOne(message: IngestMessage, signal?: AbortSignal): Promise<void> {
    return this.#calls.submitOne(message, signal);
  }

  isReady(): Promise<boolean> {
    // After close() grpc-js may still report the last state (READY), so the gateway keeps its own flag.
    if (this.#calls.closed) return Promise.resolve(false);
    const deadline = Date.now() + this.#readyTimeoutMs;
    return new Promise((resolve) => {
      try {
        this.#client.waitForReady(deadline, (error) => {
          if (error) {
            resolve(false);
            return;
          }
          this.#health.Check({ service: '' }, { deadline }, (checkError, response) => {
            if (checkError) resolve((checkError as ServiceError).code === status.UNIMPLEMENTED);
            else resolve(response?.status === 'SERVING');
          });
        });
      } catch {
        resolve(false); // the client was closed
      }
    });
  }

  /** Closes the channel; calls in flight fail with CANCELLED/UNAVAILABLE. */
  close(): void {
    this.#calls.close();
    this.#client.close();
  }

  /**
   * A gathering → ProcessTweets. An ingest older than ProcessTweets (UNIMPLEMENTED: the edge rolled out first)
   * gets each message as a ProcessTweet of its own instead (`sendEachAlone`).
   */
  async #sendEach(tweets: WeatherTweet[], signal: AbortSignal): Promise<IngestResult[]> {
    try {
      const answer = await this.#call<WeatherResults__Output>(signal, (options, callback) =>
        this.#client.ProcessTweets({ tweets }, options, callback),
      );
      return answer.results;
    } catch (error) {
      const cause = error instanceof IngestError ? (error.cause as ServiceError | undefined) : undefined;
      if (cause?.code !== status.UNIMPLEMENTED) throw error;
    }
    return sendEachAlone(tweets, signal, (tweet, oneSignal) =>
      this.#call<WeatherResponse__Output>(oneSignal, (options, callback) =>
        this.#client.ProcessTweet(tweet, options, callback),
      ),
    );
  }

  /** One message → ProcessTweet (the original RPC), several → ProcessTweetBatch. */
  #send(tweets: WeatherTweet[], signal: AbortSignal): Promise<IngestAnswer> {
    const [first] = tweets;
    return tweets.length === 1 && first !== undefined
      ? this.#call<WeatherResponse__Output>(signal, (options, callback) =>
          this.#client.ProcessTweet(first, options, callback),
        )
      : this.#call<WeatherBatchResponse__Output>(signal, (options, callback) =>
          this.#client.ProcessTweetBatch({ tweets }, options, callback),
        );
  }

  #call<T>(
    signal: AbortSignal,
    start: (
      options: { deadline: Date },
      callback: (error: ServiceError | null, response?: T) => void,
    ) => ClientUnaryCall,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let call: ClientUnaryCall;
      const onAbort = () => call.cancel();
      try {
        call = start({ deadline: new Date(Date.now() + this.#deadlineMs) }, (error, response) => {
          signal.removeEventListener('abort', onAbort);
          if (error) reject(toIngestError(error, signal));
          else if (response === undefined) reject(new IngestError('unavailable', 'ingest sent no response'));
          else resolve(response);
        });
      } catch (error) {
        // grpc-js throws synchronously, e.g. on a channel closed meanwhile.
        reject(
          new IngestError('unavailable', `the call could not start: ${(error as Error).message}`, {
            cause: error,
          }),
        );
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** A gRPC failure as the edge answers it; exported for its tests. */
export function toIngestError(error: ServiceError, signal?: AbortSignal): IngestError {
  // Our own cancellation: keep the caller's reason (its deadline, or its client gone).
  if (error.code === status.CANCELLED && signal?.aborted) return abortError(signal);
  const kind =
    error.code === status.DEADLINE_EXCEEDED
      ? 'deadline'
      : error.code === status.RESOURCE_EXHAUSTED
        ? 'overloaded'
        : error.code === status.INVALID_ARGUMENT
          ? 'invalid'
          : 'unavailable';
  return new IngestError(kind, `${status[error.code] ?? error.code}: ${error.details}`, { cause: error });
}
