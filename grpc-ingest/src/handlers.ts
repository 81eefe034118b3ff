/**
 * The WeatherService RPCs: validate and normalise (a client of the original system may send anything), give every
 * message an id and its accepted-at time, publish to BOTH brokers, and answer success only when both confirmed.
 */
import { type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import type { Publisher } from '@tandem/brokers';
import {
  encodeMessage,
  type MessageInput,
  newMessageId,
  parseMessageInput,
  type WeatherCatalog,
  type WeatherMessage,
} from '@tandem/message';
import type {
  WeatherBatchResponse,
  WeatherResponse,
  WeatherServiceHandlers,
  WeatherTweet__Output,
  WeatherTweetBatch__Output,
} from '@tandem/proto';
import { Counter, Histogram } from 'prom-client';

export interface HandlerOptions {
  /** The two pipelines' publishers, by name (e.g. kafka, rabbitmq). */
  publishers: Readonly<Record<string, Publisher>>;
  weathers?: WeatherCatalog;
  /** Messages being published at once before new calls are refused with RESOURCE_EXHAUSTED. */
  maxInFlight: number;
  now?: () => number;
}

class RpcError extends Error {
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.code = code;
  }
}

const messagesTotal = new Counter({
  name: 'ingest_messages_total',
  help: 'Messages by outcome: accepted (both brokers confirmed), invalid, rejected (overload), failed (a broker).',
  labelNames: ['outcome'] as const,
});
const publishSeconds = new Histogram({
  name: 'ingest_publish_seconds',
  help: 'Time from the RPC to the broker confirmation, per broker.',
  labelNames: ['broker'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

export function createHandlers(options: HandlerOptions): WeatherServiceHandlers {
  const now = options.now ?? Date.now;
  let inFlight = 0;

  function toMessages(tweets: readonly WeatherTweet__Output[]): WeatherMessage[] {
    const inputs: MessageInput[] = [];
    const problems: string[] = [];
    tweets.forEach((tweet, index) => {
      const parsed = parseMessageInput(
        {
          description: tweet.description,
          country: tweet.country,
          weather: tweet.weather,
          ...(tweet.id ? { id: tweet.id } : {}),
        },
        options.weathers ? { weathers: options.weathers } : {},
      );
      if (parsed.ok) inputs.push(parsed.value);
      else
        problems.push(
          ...parsed.issues.map((i) => `${tweets.length > 1 ? `[${index}].` : ''}${i.field}: ${i.message}`),
        );
    });
    if (problems.length > 0) throw new RpcError(status.INVALID_ARGUMENT, problems.join('; '));
    const acceptedAt = now();
    return inputs.map((input) => ({
      id: input.id ?? newMessageId(),
      description: input.description,
      country: input.country,
      weather: input.weather,
      acceptedAt,
    }));
  }

  async function publishToBoth(messages: readonly WeatherMessage[]): Promise<void> {
    if (inFlight + messages.length > options.maxInFlight) {
      messagesTotal.inc({ outcome: 'rejected' }, messages.length);
      throw new RpcError(
        status.RESOURCE_EXHAUSTED,
        `ingest is at its limit of ${options.maxInFlight} messages in flight`,
      );
    }
    const down = Object.entries(options.publishers).filter(([, publisher]) => !publisher.isReady());
    if (down.length > 0) {
      messagesTotal.inc({ outcome: 'failed' }, messages.length);
      throw new RpcError(status.UNAVAILABLE, `not connected: ${down.map(([name]) => name).join(', ')}`);
    }
    const envelopes = messages.map((message) => ({ id: message.id, payload: encodeMessage(message) }));
    inFlight += messages.length;
    try {
      const outcomes = await Promise.allSettled(
        Object.entries(options.publishers).map(async ([broker, publisher]) => {
          const stop = publishSeconds.startTimer({ broker });
          await publisher.publish(envelopes);
          stop();
        }),
      );
      const failed = Object.keys(options.publishers).filter((_, i) => outcomes[i]?.status === 'rejected');
      if (failed.length > 0) {
        messagesTotal.inc({ outcome: 'failed' }, messages.length);
        // Some brokers may hold the messages already; a retry with the same ids is counted once.
        throw new RpcError(
          status.UNAVAILABLE,
          `not confirmed by ${failed.join(' and ')}; retry with the same id`,
        );
      }
      messagesTotal.inc({ outcome: 'accepted' }, messages.length);
    } finally {
      inFlight -= messages.length;
    }
  }

  function unary<Req, Res>(work: (request: Req) => Promise<Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      work(call.request).then(
        (response) => callback(null, response),
        (error: unknown) => {
          if (error instanceof RpcError) {
            if (error.code === status.INVALID_ARGUMENT) messagesTotal.inc({ outcome: 'invalid' });
            callback({ code: error.code, details: error.message });
          } else {
            callback({ code: status.INTERNAL, details: (error as Error).message });
          }
        },
      );
    };
  }

  return {
    ProcessTweet: unary<WeatherTweet__Output, WeatherResponse>(async (tweet) => {
      const messages = toMessages([tweet]);
      await publishToBoth(messages);
      return { success: true, message: 'accepted', id: messages[0]?.id ?? '' };
    }),
    ProcessTweetBatch: unary<WeatherTweetBatch__Output, WeatherBatchResponse>(async (batch) => {
      if (batch.tweets.length === 0)
        throw new RpcError(status.INVALID_ARGUMENT, 'tweets: at least one is required');
      const messages = toMessages(batch.tweets);
      await publishToBoth(messages);
      return { success: true, message: 'accepted', ids: messages.map((m) => m.id) };
    }),
  };
}
