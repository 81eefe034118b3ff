import type { BatchHandler, Delivery, Subscriber, SubscriberOptions } from '../contract.ts';
import { gatherChunks } from '../gather.ts';
import { stderrLogger } from '../logger.ts';
import { groupLag } from './backlog.ts';
import { createKafkaClient, type KafkaClientOptions } from './client.ts';

export interface KafkaSubscriberOptions extends SubscriberOptions, KafkaClientOptions {
  topic: string;
  groupId: string;
  /**
   * The delay a record may take on its way to the handler for the sake of larger batches (ms). kafkajs: how long a
   * fetch waits on the broker for fetchMinBytes of new records, and so how often an idle consumer asks again (100
   * fetches a second idle cost its process ~3 % of a core more than 500 ms did, measured on a busy 2-core machine);
   * a fetch in flight is finished before close() returns, so this also bounds how long closing takes.
   * @platformatic/kafka: the pause after each fetch response before the next fetch (its fetches wait on the broker
   * for one record, up to 500 ms). Default 10.
   */
  maxWaitMs?: number;
  /**
   * kafkajs only: a fetch returns once this many bytes of records are there, or after maxWaitMs (Kafka's
   * fetch.min.bytes).
   * With 1, every fetch returns as soon as one record is there: at 2,000 msg/s a fetch brought a record or two
   * per partition, each a handler call of its own (a store round trip) and the broker worked for each fetch.
   * Default 64 KiB: under load a fetch returns when maxWaitMs is up, with what arrived meanwhile, or sooner when
   * that much arrived.
   */
  fetchMinBytes?: number;
  /** The consumer group session timeout (ms): how soon a consumer that died without leaving is replaced. Default 30000. */
  sessionTimeoutMs?: number;
  /**
   * After a handler rejection, how long before the partition is fetched again from the committed offset (ms),
   * so that a failing store is not hammered. It doubles (with jitter) up to 5 s with each failure; kafkajs does not
   * reset it after a success, only when the consumer restarts. Default 200. kafkajs uses the same backoff for its
   * other consumer retries (joining the group, fetching).
   */
  retryDelayMs?: number;
  /**
   * How many partitions of one fetch are handled at once (kafkajs's partitionsConsumedConcurrently). With one at a
   * time, a message waits for the store round trips of every partition before it in the fetch. Order
   * holds within a partition either way. Default 6, the topic's default partition count.
   */
  partitionsConcurrently?: number;
  /**
   * How often the handled offsets are committed (ms), by a timer beside the fetch loop. Committed after every
   * chunk instead, each OffsetCommit held up the loop: the group coordinator holds a commit for its append linger
   * (5 ms in Kafka 4.1) and the broker serves a connection's requests one at a time, so with several partitions
   * per fetch a message waited ~20 ms at 400 msg/s. Only offsets whose records the handler finished are
   * committed: a crash redelivers at most this interval's records, which the stores count once (idempotent by
   * id), and the group's lag lags the truth by as much. close() commits what was handled. Default 100.
   */
  commitIntervalMs?: number;
}

/** maxBatch is defined here only: kafka-consumer's BATCH_MAX defaults to it. */
export const kafkaSubscriberDefaults = {
  maxBatch: 500,
  maxWaitMs: 10,
  fetchMinBytes: 64 * 1024,
  sessionTimeoutMs: 30_000,
  retryDelayMs: 200,
  partitionsConcurrently: 6,
  commitIntervalMs: 100,
} as const;

/**
 * A handler's rejection as thrown back into kafkajs. kafkajs retries only errors it deems retriable, and when it
 * crashes it restarts the consumer only if the error, followed down its `cause` chain, is retriable: a handler
 * that threw a TypeError would stop the consumer for good. So this error says it is retriable and keeps the
 * handler's error as `reason`, not `cause`.
 */
export class HandlerRejectedError extends Error {
  override name = 'HandlerRejectedError';
  readonly retriable = true;
  readonly reason: unknown;

  constructor(reason: unknown) {
    super(`batch handler rejected: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.reason = reason;
  }
}

/**
 * A consumer group member reading `topic` from the earliest offset the group has not committed. A fetch waits up to
 * maxWaitMs for fetchMinBytes of records. What it returned for each partition is cut into chunks of at most
 * maxBatch; the partitions of a fetch are taken concurrently (up to partitionsConcurrently), each in order, and
 * their chunks go to the handler together, in calls of at most maxBatch deliveries (so one call may carry several
 * streams). After the call that carried a chunk resolves, the chunk's last offset is resolved, and the resolved
 * offsets are committed every commitIntervalMs and on close(). A rejection resolves nothing and, after
 * retryDelayMs, the partitions of that call are fetched again from their first record not handled, for as long as
 * it takes. While a handler runs, the member keeps heartbeating. Resolves once connected; start() joins the group.
 */
export async function createKafkaSubscriber(options: KafkaSubscriberOptions): Promise<Subscriber> {
  const { topic, groupId } = options;
  const logger = options.logger ?? stderrLogger;
  const maxBatch = options.maxBatch ?? kafkaSubscriberDefaults.maxBatch;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? kafkaSubscriberDefaults.sessionTimeoutMs;
  // A third of the session, as the Java client's defaults (10 s / 3 s): three heartbeats may fail before the
  // member is replaced. While a handler runs, a timer asks at twice that rate (kafkajs sends one per interval).
  const heartbeatIntervalMs = Math.max(100, Math.min(3000, Math.floor(sessionTimeoutMs / 3)));
  const heartbeatEveryMs = Math.ceil(heartbeatIntervalMs / 2);
  const kafka = createKafkaClient(options);
  const admin = kafka.admin();
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: options.maxWaitMs ?? kafkaSubscriberDefaults.maxWaitMs,
    minBytes: options.fetchMinBytes ?? kafkaSubscriberDefaults.fetchMinBytes,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: heartbeatIntervalMs,
    retry: {
      initialRetryTime: options.retryDelayMs ?? kafkaSubscriberDefaults.retryDelayMs,
      maxRetryTime: 5000,
      // The fetch loop runs under one retrier whose count never resets while the consumer runs, so kafkajs's
      // default of 5 retries turns the sixth handler failure of the consumer's life (or a store down for ~10 s)
      // into a crash and restart, a rebalance of the group. Without a limit the delay stays capped at
      // maxRetryTime; restartOnFailure covers the errors it still crashes on.
      retries: Number.MAX_SAFE_INTEGER,
      restartOnFailure: async () => true,
    },
  });

  let state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  let joined = false;
  let handler: BatchHandler | undefined;

  // kafkajs hands each partition of a fetch to eachBatch on its own (up to partitionsConcurrently at once), all in
  // the same turn of the event loop: gathered, their chunks share handler calls (store round trips).
  const handOver = gatherChunks(maxBatch, (batch) => (handler as BatchHandler)(batch));
  /** Partition → the offset to commit for it (one past its last handled record), while not yet committed. */
  const handled = new Map<number, string>();
  let commitTimer: NodeJS.Timeout | undefined;
  /** The commit in flight, if any: a tick that finds one skips it, so that slow commits never pile up. */
  let committing: Promise<void> | undefined;
  /** Commits what was handled since the last commit; a failure leaves it for the next (or a redelivery). */
  async function commitHandled(): Promise<void> {
    if (!joined || handled.size === 0) return;
    const snapshot = [...handled];
    try {
      await consumer.commitOffsets(snapshot.map(([partition, offset]) => ({ topic, partition, offset })));
      // Only what this commit covered: a partition handled further meanwhile waits for the next one.
      for (const [partition, offset] of snapshot)
        if (handled.get(partition) === offset) handled.delete(partition);
    } catch (error) {
      logger.warn({ groupId, topic, err: error }, 'offset commit failed; retried with the next one');
    }
  }
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    // A new generation: its assignment may differ, and kafkajs forgot the old one's resolved offsets too.
    handled.clear();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    joined = false;
    logger.error({ groupId, topic, err: payload.error, restart: payload.restart }, 'kafka consumer crashed');
  });
  consumer.on(consumer.events.STOP, () => {
    joined = false;
  });

  await admin.connect();
  try {
    await consumer.connect();
  } catch (error) {
    await admin.disconnect();
    throw error;
  }

  let closed: Promise<void> | undefined;

  return {
    async start(batchHandler: BatchHandler) {
      if (state !== 'idle') throw new Error(`kafka subscriber cannot start: it is ${state}`);
      state = 'running';
      handler = batchHandler;
      // fromBeginning: a group with no committed offset yet starts at the oldest record, so that nothing
      // published before the consumers first ran is skipped.
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      // Off the fetch loop: a fetch never waits for a commit's round trip, only shares the connection with it.
      const commitIntervalMs = options.commitIntervalMs ?? kafkaSubscriberDefaults.commitIntervalMs;
      commitTimer = setInterval(() => {
        committing ??= commitHandled().finally(() => {
          committing = undefined;
        });
      }, commitIntervalMs);
      commitTimer.unref();
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently:
          options.partitionsConcurrently ?? kafkaSubscriberDefaults.partitionsConcurrently,
        eachBatch: async ({
          batch,
          resolveOffset,
          commitOffsetsIfNecessary,
          uncommittedOffsets,
          heartbeat,
          isRunning,
          isStale,
        }) => {
          const stream = `${batch.topic}/${batch.partition}`;
          for (let start = 0; start < batch.messages.length; start += maxBatch) {
            // Closing, or a seek/rebalance made the rest of this fetch stale: leave it uncommitted.
            if (!isRunning() || isStale()) return;
            const records = batch.messages.slice(start, start + maxBatch);
            const last = records.at(-1);
            if (!last) return;
            const deliveries: Delivery[] = records.map((record) => ({
              id: record.key?.toString('utf8'),
              payload: record.value ?? Buffer.alloc(0),
              stream,
            }));
            // kafkajs heartbeats only between chunks: a handler held up longer than the session (a store
            // refusing writes, retried for up to 30 s) would cost the member its partitions, and the group a
            // rebalance and a redelivery. A failed heartbeat (a rebalance under way) is seen again after the chunk.
            const beat = setInterval(() => {
              heartbeat().catch((error: unknown) =>
                logger.debug({ groupId, topic, err: error }, 'heartbeat during a batch failed'),
              );
            }, heartbeatEveryMs);
            try {
              await handOver(deliveries);
            } catch (error) {
              throw new HandlerRejectedError(error);
            } finally {
              clearInterval(beat);
            }
            resolveOffset(last.offset);
            handled.set(batch.partition, (BigInt(last.offset) + 1n).toString());
            // Closing: the chunk in flight commits itself, as the commit timer has stopped.
            if (state === 'closing') {
              await commitOffsetsIfNecessary(uncommittedOffsets());
              handled.delete(batch.partition);
            }
            await heartbeat();
          }
        },
      });
    },

    backlog: () => groupLag(admin, topic, groupId),

    isReady: () => state === 'running' && joined,

    close() {
      closed ??= (async () => {
        state = 'closing';
        clearInterval(commitTimer);
        await committing;
        await commitHandled(); // what was handled since the last commit
        // Stops fetching, waits for the chunk in flight to be handled and committed, leaves the group.
        await consumer.disconnect();
        await admin.disconnect();
        state = 'closed';
      })();
      return closed;
    },
  };
}
