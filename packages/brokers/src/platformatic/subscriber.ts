import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  Consumer,
  type ConsumerGroupJoinPayload,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { BatchHandler, Delivery, Subscriber } from '../contract.ts';
import { gatherChunks } from '../gather.ts';
import { type KafkaSubscriberOptions, kafkaSubscriberDefaults } from '../kafka/subscriber.ts';
import { stderrLogger } from '../logger.ts';
import { retrying } from '../retry.ts';
import { platformaticGroupLag } from './backlog.ts';
import {
  explainPlatformaticError,
  isRetriableForKnownTopic,
  isUnknownTopicError,
  platformaticBaseOptions,
} from './client.ts';

/**
 * How long a fetch waits on the broker for a first record (ms): Kafka's own default (fetch.max.wait.ms). Fetches
 * ask for one byte (minBytes 1) and are paced by the subscriber instead (see pace()), so an idle consumer asks twice
 * a second where one waiting 10 ms for 64 KiB asked 100 times: on the 2-core bench machine, idle, the consumer's CPU
 * fell from 0.08 to 0.02 of a core and Kafka's from 0.11 to 0.04.
 */
const idleFetchWaitMs = 500;

/**
 * One assigned partition: what the stream handed over and the handler has not finished yet, in order. Parallel
 * arrays rather than an object per record: this runs for every record.
 */
interface Lane {
  partition: number;
  /** `topic/partition`: Delivery.stream. */
  stream: string;
  queue: Delivery[];
  offsets: bigint[];
  leaderEpochs: number[];
  /** The last offset taken into the queue: what the stream hands over again up to it is skipped. */
  last: bigint;
  running: boolean;
  /** The pause before the next attempt after a rejection (ms); reset by a success. */
  delayMs: number;
}

/**
 * createKafkaSubscriber's twin on @platformatic/kafka, with the same options and the same contract: a consumer group
 * member reading `topic` from the earliest offset the group has not committed (mode COMMITTED, falling back to
 * EARLIEST). The library hands records over as a stream; here they are queued per partition ("lanes"), and each
 * lane hands over chunks of at most maxBatch in order, up to partitionsConcurrently lanes at once. The chunks the
 * lanes hand over in the same turn of the event loop (the partitions of one fetch response) go to the handler
 * together, in calls of at most maxBatch deliveries (so one call may carry several streams), as with kafkajs. After
 * the call that carried a chunk resolves, the chunk's offset is marked handled; the handled offsets are committed
 * every commitIntervalMs and on close(), never before the handler resolved (autocommit is off).
 *
 * Fetching differs from the kafkajs adapter's (which waits on the broker up to maxWaitMs for fetchMinBytes): a fetch
 * returns as soon as one record is there, or after idleFetchWaitMs, and the next one goes maxWaitMs after it came
 * back. The same batching under load (what arrived during maxWaitMs rides one fetch), a record reaching an idle
 * consumer at once rather than at the next 10 ms tick, and two fetches a second idle instead of 100.
 * fetchMinBytes is not used.
 *
 * A rejection rejects every chunk of that call: each of those lanes keeps its chunk at its head and hands it over
 * again after its own retryDelayMs (doubling up to 5 s), for as long as it takes: the rejected records and
 * everything after them in that partition come again, in order — what re-reading from the committed offset gives
 * the kafkajs adapter, without a fetch. Meanwhile the lane keeps what the stream hands over for that partition, and
 * once the lanes hold maxBatch × partitionsConcurrently records no new fetch is made (the stream is paused, and
 * resumed below half of that): bounded memory — the lanes plus one fetch response — and back-pressure to the
 * broker. The library heartbeats on its own connection, between and during handler calls alike.
 *
 * A rebalance drops the lanes of the partitions this member lost (their records go to the new owner from the
 * committed offset); a chunk in flight for one finishes but is not marked handled. The library re-reads kept
 * partitions from the committed offset after a rejoin; records already queued are skipped, not handed over twice.
 * A stream that fails (the broker away longer than the client's retries) is replaced after retryDelayMs, doubling.
 */
export async function createPlatformaticKafkaSubscriber(
  options: KafkaSubscriberOptions,
): Promise<Subscriber> {
  const { topic, groupId } = options;
  const logger = options.logger ?? stderrLogger;
  const maxBatch = options.maxBatch ?? kafkaSubscriberDefaults.maxBatch;
  const firstDelayMs = options.retryDelayMs ?? kafkaSubscriberDefaults.retryDelayMs;
  const concurrency = options.partitionsConcurrently ?? kafkaSubscriberDefaults.partitionsConcurrently;
  const commitIntervalMs = options.commitIntervalMs ?? kafkaSubscriberDefaults.commitIntervalMs;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? kafkaSubscriberDefaults.sessionTimeoutMs;
  const paceMs = options.maxWaitMs ?? kafkaSubscriberDefaults.maxWaitMs;
  const pauseAt = maxBatch * concurrency;
  const resumeAt = Math.floor(pauseAt / 2);

  const heartbeatIntervalMs = Math.max(100, Math.min(3000, Math.floor(sessionTimeoutMs / 3)));
  const consumer = new Consumer({
    ...platformaticBaseOptions(options, { retryDelayMs: 250 }),
    groupId,
    autocommit: false,
    sessionTimeout: sessionTimeoutMs,
    // A third of the session, as the Java client's defaults (10 s / 3 s): three heartbeats may fail before the
    // member is replaced.
    heartbeatInterval: heartbeatIntervalMs,
    rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000),
    maxWaitTime: idleFetchWaitMs,
    minBytes: 1,
    // kafkajs's defaults: 10 MB per fetch, 1 MB per partition.
    maxBytes: 10 * 1024 * 1024,
    maxBytesPerPartition: 1024 * 1024,
  });
  const admin = new Admin(platformaticBaseOptions({ ...options, clientId: `${options.clientId}-admin` }));

  let state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  let handler: BatchHandler | undefined;
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** A stream being opened or replaced: close() waits for it, so that it is closed too. */
  let opening: Promise<void> | undefined;
  const lanes = new Map<number, Lane>();
  /** The partitions of `topic` this member owns, as of the last join. */
  let assigned: Set<number> | undefined;
  let queued = 0;
  /** The stream is paused because the lanes are full. */
  let paused = false;
  /** The stream is paused until paceMs after the last fetch response. */
  let pacing = false;
  let running = 0;
  /** Lanes with work, waiting for one of the `concurrency` slots. */
  const ready: Lane[] = [];
  const inFlight = new Set<Promise<void>>();
  /** Partition → the offset to commit (one past its last handled record) with its leader epoch, not yet committed. */
  const handled = new Map<number, { offset: bigint; leaderEpoch: number }>();
  let commitTimer: NodeJS.Timeout | undefined;
  let membershipTimer: NodeJS.Timeout | undefined;
  let rejoining: Promise<void> | undefined;
  let committing: Promise<void> | undefined;
  const stopping = new AbortController();
  const handOver = gatherChunks(maxBatch, (batch) => (handler as BatchHandler)(batch));

  async function commitHandled(): Promise<void> {
    if (handled.size === 0) return;
    const snapshot = [...handled];
    try {
      await consumer.commit({
        offsets: snapshot.map(([partition, { offset, leaderEpoch }]) => ({
          topic,
          partition,
          offset,
          leaderEpoch,
        })),
      });
      for (const [partition, entry] of snapshot)
        if (handled.get(partition) === entry) handled.delete(partition);
    } catch (error) {
      logger.warn({ groupId, topic, err: error }, 'offset commit failed; retried with the next one');
    }
  }

  function schedule(lane: Lane): void {
    if (lane.running || lane.queue.length === 0 || ready.includes(lane)) return;
    ready.push(lane);
    pump();
  }

  function pump(): void {
    while (state === 'running' && running < concurrency && ready.length > 0) {
      const lane = ready.shift() as Lane;
      if (lanes.get(lane.partition) !== lane || lane.queue.length === 0) continue;
      lane.running = true;
      running += 1;
      const work = drain(lane).finally(() => {
        lane.running = false;
        running -= 1;
        inFlight.delete(work);
        if (state === 'running') {
          schedule(lane);
          pump();
        }
      });
      inFlight.add(work);
    }
  }

  /**
   * Hands the lane's queue over chunk by chunk until it is empty, the lane is dropped, or closing. The lanes' chunks
   * of one turn (a fetch response's partitions, scheduled together) share handler calls.
   */
  async function drain(lane: Lane): Promise<void> {
    while (state === 'running' && lanes.get(lane.partition) === lane && lane.queue.length > 0) {
      const chunk = lane.queue.slice(0, maxBatch);
      try {
        await handOver(chunk);
      } catch (error) {
        logger.debug(
          { groupId, topic, partition: lane.partition, err: error, retryInMs: lane.delayMs },
          'batch handler rejected; handing the chunk over again',
        );
        try {
          await sleep(lane.delayMs, undefined, { signal: stopping.signal });
        } catch {
          return; // closing: the chunk stays unhandled and uncommitted
        }
        lane.delayMs = Math.min(lane.delayMs * 2, 5000);
        continue;
      }
      lane.delayMs = firstDelayMs;
      // A rebalance took the partition away meanwhile: its new owner reads it from the committed offset.
      if (lanes.get(lane.partition) !== lane) return;
      const count = chunk.length;
      const offset = (lane.offsets[count - 1] as bigint) + 1n;
      const leaderEpoch = lane.leaderEpochs[count - 1] as number;
      lane.queue.splice(0, count);
      lane.offsets.splice(0, count);
      lane.leaderEpochs.splice(0, count);
      taken(count);
      handled.set(lane.partition, { offset, leaderEpoch });
    }
  }

  function taken(count: number): void {
    queued -= count;
    if (paused && queued <= resumeAt && state === 'running') {
      paused = false;
      if (!pacing) stream?.resume();
    }
  }

  function onMessage(message: Message<Buffer, Buffer, Buffer, Buffer>): void {
    if (state !== 'running') return;
    // A fetch sent before a rebalance may still bring records of a partition this member no longer owns.
    if (assigned && !assigned.has(message.partition)) return;
    let lane = lanes.get(message.partition);
    if (!lane) {
      lane = {
        partition: message.partition,
        stream: `${message.topic}/${message.partition}`,
        queue: [],
        offsets: [],
        leaderEpochs: [],
        last: -1n,
        running: false,
        delayMs: firstDelayMs,
      };
      lanes.set(message.partition, lane);
    }
    // After a rejoin or a new stream the library reads again from the committed offset: what is queued already
    // (or handled since) is not handed over twice.
    failedStreams = 0;
    if (message.offset <= lane.last) return;
    lane.last = message.offset;
    lane.queue.push({
      id: message.key?.toString('utf8'),
      payload: message.value ?? Buffer.alloc(0),
      stream: lane.stream,
    });
    lane.offsets.push(message.offset);
    lane.leaderEpochs.push(message.leaderEpoch);
    queued += 1;
    if (!paused && queued >= pauseAt && stream) {
      paused = true;
      // Paused, the library fetches nothing more; the rest of the response it is pushing lands in the stream's
      // buffer, ordered partition by partition. Taken into the lanes right after (read() in paused mode emits
      // 'data' and fetches nothing), so that every partition of the response is handled at once: the bound is
      // the lanes plus one fetch response (maxBytes), as with kafkajs.
      const paused_ = stream;
      paused_.pause();
      setImmediate(() => {
        while (paused && stream === paused_ && paused_.read() !== null) {}
      });
    }
    // Gathers what one fetch response pushes (synchronously) into the lane before the handler sees it.
    if (!lane.running && lane.queue.length === 1) setImmediate(() => schedule(lane));
    else if (!lane.running && lane.queue.length >= maxBatch) schedule(lane);
  }

  function onJoin({ assignments }: ConsumerGroupJoinPayload): void {
    const kept = new Set(
      (assignments ?? []).filter((a) => a.topic === topic).flatMap((assignment) => assignment.partitions),
    );
    assigned = kept;
    for (const [partition, lane] of lanes) {
      if (kept.has(partition)) continue;
      lanes.delete(partition);
      handled.delete(partition);
      taken(lane.queue.length);
    }
  }
  consumer.on('consumer:group:join', onJoin);
  // The library emits 'error' on the consumer when it could not rejoin the group after a failed heartbeat (the broker
  // away longer than its retries); it heartbeats no more. Unheard, an 'error' event would end the process. The
  // stream is replaced: a new one joins the group again.
  consumer.on('error', (error: unknown) => {
    if (state !== 'running') return;
    logger.warn({ groupId, topic, err: error }, 'kafka consumer left the group; joining again');
    const failed = stream;
    if (!failed) return; // a new stream is on its way already
    stream = undefined;
    opening = failed
      .close()
      .catch(() => {})
      .then(() => reopen(nextReopenDelay()));
  });

  /**
   * A fetch response came back: the next fetch goes paceMs later. The library fetches again as soon as it has
   * pushed a response's records, and, with minBytes 1, a fetch returns as soon as one record is there: under load,
   * every produce request would be a fetch, a handler call and a store round trip of its own. The pause is taken
   * on the next tick, after the response's records were pushed (synchronously, before the library's own next tick
   * fetches again), so that no record waits for it.
   */
  function pace(of: MessagesStream<Buffer, Buffer, Buffer, Buffer>): void {
    if (paceMs <= 0 || pacing) return;
    pacing = true;
    process.nextTick(() => {
      if (stream === of && pacing) of.pause();
    });
    setTimeout(() => {
      if (stream !== of) return;
      pacing = false;
      if (!paused && state === 'running') of.resume();
    }, paceMs).unref();
  }

  /** Opens the stream; a stream that fails is replaced, after a pause that doubles, for as long as it takes. */
  async function openStream(): Promise<void> {
    const opened = await consumer.consume({
      topics: [topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
      maxWaitTime: idleFetchWaitMs,
      minBytes: 1,
      // The stream's own buffer, in records: what it holds while the lanes are full.
      highWaterMark: Math.min(maxBatch * 2, 4096),
    });
    stream = opened;
    paused = false;
    pacing = false;
    opened.on('data', onMessage);
    opened.on('fetch', () => pace(opened));
    opened.on('error', (error) => {
      if (stream !== opened) return;
      stream = undefined;
      if (state !== 'running') return;
      logger.warn({ groupId, topic, err: error }, 'kafka consumer stream failed; opening a new one');
      opening = reopen(nextReopenDelay());
    });
    if (queued >= pauseAt) {
      paused = true;
      opened.pause();
    }
  }

  /** Streams that failed in a row, without a record in between: the pause before the next doubles with each. */
  let failedStreams = 0;
  function nextReopenDelay(): number {
    failedStreams += 1;
    return Math.min(firstDelayMs * 2 ** (failedStreams - 1), 5000);
  }

  async function reopen(delayMs: number): Promise<void> {
    try {
      await sleep(delayMs, undefined, { signal: stopping.signal });
      if (state !== 'running') return;
      await openStream();
    } catch (error) {
      if (state !== 'running') return;
      logger.warn({ groupId, topic, err: error }, 'cannot open a kafka consumer stream; trying again');
      opening = reopen(Math.min(delayMs * 2, 5000));
    }
  }

  try {
    // Connects and logs in now: a wrong password or an unreachable broker stops the caller at start-up, as the
    // kafkajs adapter's connect() does.
    await retrying(() => consumer.metadata({ topics: [topic] }), {
      what: `metadata of topic ${topic}`,
      timeoutMs: 10_000,
      isRetriable: isUnknownTopicError,
    });
  } catch (error) {
    await Promise.all([consumer.close().catch(() => {}), admin.close().catch(() => {})]);
    throw explainPlatformaticError(error);
  }
  let closed: Promise<void> | undefined;

  return {
    async start(batchHandler: BatchHandler) {
      if (state !== 'idle') throw new Error(`kafka subscriber cannot start: it is ${state}`);
      state = 'running';
      handler = batchHandler;
      // Joins the group, then reads. A topic created a moment ago may still be unknown to this client.
      await retrying(openStream, {
        what: `kafka consumer group ${groupId} on ${topic}`,
        isRetriable: isRetriableForKnownTopic,
      });
      // After an outage the library may read again without being a member (its heartbeats stopped when a rejoin
      // failed, and nothing joins again while the stream works): records flow, but the group would hand the
      // partitions to another member, and readiness stays false. Found in a broker outage of 10 s; so a member
      // that stays inactive for two heartbeat intervals joins again.
      let inactiveChecks = 0;
      membershipTimer = setInterval(() => {
        if (state !== 'running' || !stream || consumer.isActive()) {
          inactiveChecks = 0;
          return;
        }
        inactiveChecks += 1;
        if (inactiveChecks < 2 || rejoining) return;
        rejoining = consumer
          .joinGroup({
            sessionTimeout: sessionTimeoutMs,
            rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000),
            heartbeatInterval: heartbeatIntervalMs,
          })
          .then(
            () => logger.info({ groupId, topic }, 'kafka consumer joined its group again'),
            (error: unknown) =>
              logger.warn({ groupId, topic, err: error }, 'kafka consumer cannot join its group yet'),
          )
          .finally(() => {
            rejoining = undefined;
            inactiveChecks = 0;
          });
      }, heartbeatIntervalMs);
      membershipTimer.unref();
      commitTimer = setInterval(() => {
        committing ??= commitHandled().finally(() => {
          committing = undefined;
        });
      }, commitIntervalMs);
      commitTimer.unref();
    },

    backlog: () => platformaticGroupLag(admin, topic, groupId),

    isReady: () => state === 'running' && stream !== undefined && consumer.isActive(),

    close() {
      closed ??= (async () => {
        const wasRunning = state === 'running';
        state = 'closing';
        stopping.abort();
        clearInterval(commitTimer);
        clearInterval(membershipTimer);
        await rejoining;
        await opening?.catch(() => {});
        // No new chunk starts; the ones in flight finish (a rejected one does not wait for its retry).
        await Promise.all(inFlight);
        await committing;
        if (wasRunning) await commitHandled();
        await stream?.close().catch((error: unknown) => {
          logger.warn({ groupId, topic, err: error }, 'closing the kafka consumer stream failed');
        });
        // Leaves the group, so that the partitions go to another member at once.
        await consumer.close(true);
        await admin.close();
        state = 'closed';
      })();
      return closed;
    },
  };
}
