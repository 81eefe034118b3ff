/**
 * What the ingest does, whatever the transport: validate and normalise (a client of the original system may send
 * anything), give every message an id and its accepted-at time, publish to BOTH brokers, and answer success only
 * when both confirmed. The gRPC service (handlers.ts) and the HTTP/JSON one (http.ts) are thin bindings of this.
 */
import { status } from '@grpc/grpc-js';
import type { Envelope, Publisher } from '@tandem/brokers';
import {
  encodeMessage,
  type MessageInput,
  newMessageId,
  parseMessageInput,
  type WeatherMessage,
} from '@tandem/message';
import type { WeatherBatchResponse, WeatherResponse, WeatherResult, WeatherResults } from '@tandem/proto';
import { Counter, Gauge, Histogram } from 'prom-client';

export interface IngestOptions {
  /** The two pipelines' publishers, by name (e.g. kafka, rabbitmq). */
  publishers: Readonly<Record<string, Publisher>>;
  /** Messages being published at once before new calls are refused with RESOURCE_EXHAUSTED. */
  maxInFlight: number;
  now?: () => number;
}

export interface Ingest {
  /** One message (a WeatherTweet, or any JSON value claiming to be one). */
  processTweet(tweet: unknown): Promise<WeatherResponse>;
  /** Several, all-or-nothing: one invalid message refuses them all; the ids come back in order. */
  processTweetBatch(tweets: readonly unknown[]): Promise<WeatherBatchResponse>;
  /**
   * Several, each on its own (ProcessTweets): every valid message is published, all of them in one publish per
   * broker, and each gets its own result, in order. An invalid message fails alone (INVALID_ARGUMENT), so does one
   * beyond the room left under the bound (RESOURCE_EXHAUSTED: the first ones that fit go); what refuses the
   * published ones alike (a broker not connected or not confirming) fails each of them with that code. Only a call
   * with no message is refused as a whole.
   */
  processTweets(tweets: readonly unknown[]): Promise<WeatherResults>;
  /** Whether every broker can take messages now: the health check of both transports. */
  isServing(): boolean;
}

/** A refusal, with the gRPC status it is answered with (the HTTP binding maps it on). */
export class IngestCallError extends Error {
  override name = 'IngestCallError';
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
const messagesInFlight = new Gauge({
  name: 'ingest_messages_in_flight',
  help: 'Messages being published now: sent to the brokers, not yet confirmed or failed by both.',
});
const publishSeconds = new Histogram({
  name: 'ingest_publish_seconds',
  help: 'Time from the RPC to the broker confirmation, per broker.',
  labelNames: ['broker'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

export function createIngest(options: IngestOptions): Ingest {
  const now = options.now ?? Date.now;
  let inFlight = 0;
  // Made once, as the publishers are fixed: a call then builds no label objects, entries or timer closures.
  const brokers = Object.entries(options.publishers).map(([name, publisher]) => ({
    name,
    publisher,
    seconds: publishSeconds.labels({ broker: name }),
  }));
  const outcomes = {
    accepted: messagesTotal.labels({ outcome: 'accepted' }),
    invalid: messagesTotal.labels({ outcome: 'invalid' }),
    rejected: messagesTotal.labels({ outcome: 'rejected' }),
    failed: messagesTotal.labels({ outcome: 'failed' }),
  };

  function toMessages(tweets: readonly unknown[]): WeatherMessage[] {
    const inputs: MessageInput[] = [];
    let problems: string[] | undefined;
    for (let index = 0; index < tweets.length; index++) {
      const parsed = parseMessageInput(messageFields(tweets[index]));
      if (parsed.ok) inputs.push(parsed.value);
      else {
        problems ??= [];
        for (const i of parsed.issues)
          problems.push(`${tweets.length > 1 ? `[${index}].` : ''}${i.field}: ${i.message}`);
      }
    }
    if (problems) {
      outcomes.invalid.inc();
      throw new IngestCallError(status.INVALID_ARGUMENT, problems.join('; '));
    }
    const acceptedAt = now();
    const messages: WeatherMessage[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const { id, description, country, weather } = inputs[i] as MessageInput;
      messages[i] = { id: id ?? newMessageId(), description, country, weather, acceptedAt };
    }
    return messages;
  }

  async function publishToBoth(messages: readonly WeatherMessage[]): Promise<void> {
    const count = messages.length;
    if (inFlight + count > options.maxInFlight) {
      outcomes.rejected.inc(count);
      throw new IngestCallError(
        status.RESOURCE_EXHAUSTED,
        `ingest is at its limit of ${options.maxInFlight} messages in flight`,
      );
    }
    const down = brokers.filter((broker) => !broker.publisher.isReady());
    if (down.length > 0) {
      outcomes.failed.inc(count);
      throw new IngestCallError(
        status.UNAVAILABLE,
        `not connected: ${down.map((broker) => broker.name).join(', ')}`,
      );
    }
    // Encoded once: both brokers get the same envelopes, so the same bytes.
    const envelopes: Envelope[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const message = messages[i] as WeatherMessage;
      envelopes[i] = { id: message.id, payload: encodeMessage(message) };
    }
    inFlight += count;
    messagesInFlight.inc(count);
    try {
      const start = performance.now();
      const settled = await Promise.allSettled(
        brokers.map(({ publisher, seconds }) =>
          publishOne(publisher, envelopes).then(() => seconds.observe((performance.now() - start) / 1000)),
        ),
      );
      const failed = brokers.filter((_, i) => settled[i]?.status === 'rejected').map((broker) => broker.name);
      if (failed.length > 0) {
        outcomes.failed.inc(count);
        // Some brokers may hold the messages already; a retry with the same ids is counted once.
        throw new IngestCallError(
          status.UNAVAILABLE,
          `not confirmed by ${failed.join(' and ')}; retry with the same id`,
        );
      }
      outcomes.accepted.inc(count);
    } finally {
      inFlight -= count;
      messagesInFlight.dec(count);
    }
  }

  async function processTweets(tweets: readonly unknown[]): Promise<WeatherResults> {
    if (tweets.length === 0)
      throw new IngestCallError(status.INVALID_ARGUMENT, 'tweets: at least one is required');
    const results: WeatherResult[] = new Array(tweets.length);
    const valid: WeatherMessage[] = [];
    /** Where each valid message's result goes. */
    const positions: number[] = [];
    const acceptedAt = now();
    let invalid = 0;
    for (let index = 0; index < tweets.length; index++) {
      const tweet = tweets[index];
      const parsed = parseMessageInput(messageFields(tweet));
      if (parsed.ok) {
        const { description, country, weather } = parsed.value;
        valid.push({ id: parsed.value.id ?? newMessageId(), description, country, weather, acceptedAt });
        positions.push(index);
      } else {
        invalid++;
        results[index] = {
          success: false,
          message: parsed.issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '),
          id: givenId(tweet),
          code: status.INVALID_ARGUMENT,
        };
      }
    }
    if (invalid > 0) outcomes.invalid.inc(invalid);
    if (valid.length === 0) return { results };
    // The bound, per message: as many as there is room for go, the rest are refused each on its own (an edge that
    // gathers more than the bound at once still gets some through, rather than a refusal of all).
    const room = Math.max(0, options.maxInFlight - inFlight);
    const sent = valid.length > room ? valid.slice(0, room) : valid;
    if (valid.length > room) {
      outcomes.rejected.inc(valid.length - room);
      const refusal = `ingest is at its limit of ${options.maxInFlight} messages in flight`;
      for (let i = room; i < valid.length; i++) {
        const id = (valid[i] as WeatherMessage).id;
        results[positions[i] as number] = {
          success: false,
          message: refusal,
          id,
          code: status.RESOURCE_EXHAUSTED,
        };
      }
    }
    if (sent.length === 0) return { results };
    let failure: IngestCallError | undefined;
    try {
      await publishToBoth(sent);
    } catch (error) {
      if (!(error instanceof IngestCallError)) throw error;
      failure = error;
    }
    for (let i = 0; i < sent.length; i++) {
      const { id } = sent[i] as WeatherMessage;
      results[positions[i] as number] = failure
        ? { success: false, message: failure.message, id, code: failure.code }
        : { success: true, message: 'accepted', id, code: status.OK };
    }
    return { results };
  }

  return {
    processTweets,
    async processTweet(tweet) {
      const messages = toMessages([tweet]);
      await publishToBoth(messages);
      return { success: true, message: 'accepted', id: messages[0]?.id ?? '' };
    },
    async processTweetBatch(tweets) {
      if (tweets.length === 0)
        throw new IngestCallError(status.INVALID_ARGUMENT, 'tweets: at least one is required');
      const messages = toMessages(tweets);
      await publishToBoth(messages);
      return { success: true, message: 'accepted', ids: messages.map((m) => m.id) };
    },
    isServing: () => Object.values(options.publishers).every((publisher) => publisher.isReady()),
  };
}

/**
 * The message fields of a WeatherTweet; everything else (accepted_at_ms is the ingest's to set) is ignored. An
 * empty id is proto3's "not set". A non-object is passed on as it is, for the validator to name.
 */
function messageFields(tweet: unknown): unknown {
  if (typeof tweet !== 'object' || tweet === null || Array.isArray(tweet)) return tweet;
  const { description, country, weather, id } = tweet as Record<string, unknown>;
  return { description, country, weather, ...(id === '' || id === undefined ? {} : { id }) };
}

/** A publisher's publish as a promise, even if it throws instead of rejecting. */
function publishOne(publisher: Publisher, envelopes: readonly Envelope[]): Promise<void> {
  try {
    return publisher.publish(envelopes);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The id a tweet came with, for the result of one that is refused: a string, or empty. */
function givenId(tweet: unknown): string {
  const id = typeof tweet === 'object' && tweet !== null ? (tweet as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : '';
}
