import type { Writable } from 'node:stream';
import amqp, { type Channel, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { type BrokerLogger, stderrLogger } from '../logger.ts';
import { isRetriableAmqpError, type RetryOptions, retrying } from '../retry.ts';

export interface RabbitConnectionOptions {
  /** amqp://user:pass@host:port/vhost (RABBITMQ_URL); `?heartbeat=10` notices a silent broker sooner. */
  url: string;
  logger?: BrokerLogger;
  /**
   * After the connection is lost, reconnect with exponential backoff, declare the queue again and (subscriber)
   * consume again. Default true. While reconnecting, publish() rejects at once. The first connection is tried
   * three times only, so that a wrong URL or an absent broker stops a service at start-up.
   */
  reconnect?: boolean;
  /** Longest pause between reconnection attempts (ms). Default 5000. */
  maxReconnectDelayMs?: number;
}

export interface RabbitQueueOptions {
  queue: string;
  /**
   * The queue is declared durable, of this type. Default 'quorum' (replicated, the type RabbitMQ recommends for
   * data that must not be lost). Every declaration of a queue must agree: RabbitMQ 3.x closes the channel with
   * 406 PRECONDITION_FAILED when one asks for another type, so a queue made by an operator must use the same.
   */
  queueType?: 'quorum' | 'classic';
}

export function queueOptions(queueType: RabbitQueueOptions['queueType'] = 'quorum') {
  // A classic queue is declared without the argument: that matches queues made before types existed too.
  return queueType === 'classic'
    ? { durable: true }
    : { durable: true, arguments: { 'x-queue-type': queueType } };
}

interface Hooks {
  /** Who is connecting, for the log. */
  role: string;
  /** Runs after every (re)connection, before the connection counts as up: open channels, declare, consume. */
  setup(model: ChannelModel): Promise<void>;
  onDisconnect(): void;
  onBlocked?(blocked: boolean): void;
}

/**
 * A connection that comes back by itself (amqplib's own recovery) and reruns `setup` each time. Channels are not
 * recovered by amqplib, which is why setup opens them; a channel that closes on its own (a channel-level error)
 * takes the connection down with it through `watchChannel`, so that recovery reopens everything in one way.
 */
export async function connectRabbit(
  options: RabbitConnectionOptions,
  hooks: Hooks,
): Promise<RecoveringChannelModel> {
  const logger = options.logger ?? stderrLogger;
  const fields = { component: 'amqplib', role: hooks.role };
  const connection = await amqp.connect(options.url, {
    recovery: {
      initialDelay: 100,
      maxDelay: options.maxReconnectDelayMs ?? 5000,
      initialMaxRetries: 2,
      maxRetries: options.reconnect === false ? 0 : Number.POSITIVE_INFINITY,
      async setup(model: ChannelModel) {
        writeInBatches(model);
        await hooks.setup(model);
      },
    },
  });
  connection.on('disconnect', (err) => {
    hooks.onDisconnect();
    logger.warn({ ...fields, err }, 'rabbitmq connection lost');
  });
  connection.on('connect', () => logger.info(fields, 'rabbitmq connected'));
  connection.on('connect-failed', (err) =>
    logger.warn({ ...fields, err }, 'rabbitmq connection attempt failed'),
  );
  connection.on('reconnect-scheduled', ({ attempt, delay }) =>
    logger.info({ ...fields, attempt, delay }, 'rabbitmq reconnection scheduled'),
  );
  connection.on('reconnect-failed', (err) =>
    logger.error({ ...fields, err }, 'rabbitmq reconnection abandoned'),
  );
  // Without a listener, an 'error' event would throw and end the process; 'disconnect' follows with the same error.
  connection.on('error', (err) => logger.debug({ ...fields, err }, 'rabbitmq connection error'));
  connection.on('handler-error', (err, event) =>
    logger.error({ ...fields, err, event }, 'rabbitmq listener threw'),
  );
  connection.on('blocked', (reason) => {
    hooks.onBlocked?.(true);
    logger.warn({ ...fields, reason }, 'rabbitmq blocked publishing');
  });
  connection.on('unblocked', () => {
    hooks.onBlocked?.(false);
    logger.info(fields, 'rabbitmq unblocked publishing');
  });
  return connection;
}

/** The parts of amqplib's (untyped, internal) Connection that writeInBatches uses. */
interface AmqplibInternals {
  connection?: { muxer?: { _readIncoming?: () => void }; stream?: Writable };
}

/**
 * amqplib's Mux moves the frames that channels queued onto the socket in one pass (on a setImmediate after a
 * channel buffer became readable, or on the socket's 'drain'), but with one socket.write() per message, and an
 * idle socket writes each at once: one syscall per message, the largest part of a publisher's CPU at a few
 * thousand messages per second. Corking the socket for the pass turns everything the pass moves (a publish()
 * batch, the acks of several deliveries) into one writev. The uncork is synchronous and in a finally, so nothing
 * stays held back; the Mux still sees write() return false beyond the socket's highWaterMark and waits for
 * 'drain', as before. amqplib 2.3.1 offers no option for this; if its internals change, this does nothing.
 */
export function writeInBatches(model: ChannelModel): void {
  const connection = (model as unknown as AmqplibInternals).connection;
  const mux = connection?.muxer;
  const socket = connection?.stream;
  const readIncoming = mux?._readIncoming;
  if (!mux || !socket || typeof readIncoming !== 'function' || typeof socket.cork !== 'function') return;
  mux._readIncoming = () => {
    socket.cork();
    try {
      readIncoming.call(mux);
    } finally {
      socket.uncork();
    }
  };
}

/**
 * Listens to a channel's errors (unheard, they would throw) and, if it closes while its connection stays up and
 * the owner is not closing, closes the connection so that recovery rebuilds it. `onClose` runs first, when it
 * closes for any reason.
 */
export function watchChannel(
  model: ChannelModel,
  channel: Channel,
  { logger, onClose, closing }: { logger: BrokerLogger | undefined; onClose(): void; closing(): boolean },
): void {
  const log = logger ?? stderrLogger;
  channel.on('error', (err) => log.warn({ component: 'amqplib', err }, 'rabbitmq channel error'));
  channel.on('handler-error', (err, event) =>
    log.error({ component: 'amqplib', err, event }, 'rabbitmq channel listener threw'),
  );
  channel.on('close', () => {
    onClose();
    if (closing()) return;
    // On a connection already closing or closed this is a no-op or a rejection; both are fine.
    Promise.resolve()
      .then(() => model.close())
      .catch(() => {});
  });
}

/**
 * Closes channels before their connection. amqplib writes each channel's frames through its own buffer and
 * interleaves them on the socket, so an ack written just before connection.close() can reach the broker after
 * Connection.Close and be ignored: the acked deliveries come back (seen with amqplib 2.3.1 and RabbitMQ 3.10, for
 * classic and quorum queues). channel.close() resolves on the broker's CloseOk, after it has taken every frame
 * sent before on that channel.
 */
export async function closeChannels(channels: readonly (Channel | undefined)[]): Promise<void> {
  await Promise.all(channels.map((channel) => channel?.close().catch(() => {})));
}

export interface RabbitToolOptions {
  url: string;
  /** Give up one connection attempt after this long (ms). Default 5000. */
  timeoutMs?: number;
  /** The bound and backoff of the retry of transient errors (default: 30 s, from 100 ms up to 2 s). */
  retry?: RetryOptions;
  /** Where retries are reported (warn). Default: nowhere; a failure rejects, for the tool to report. */
  logger?: BrokerLogger;
  /** Stands in for amqplib's connect: for unit tests of the retry. */
  connect?: (url: string, options: { timeout: number }) => Promise<ChannelModel>;
}

/**
 * Runs `work` with a plain connection of its own (no recovery), and closes it whatever happens: for tools. A check
 * of a missing queue closes its channel, and the connection reports that as an 'error' event, which must be heard.
 * A transient error (isRetriableAmqpError: connection refused or reset while the broker restarts, a connection or
 * channel closed by a transient server condition) runs it all again on a fresh connection, with backoff, for up to
 * `retry.timeoutMs` (30 s); then it rejects with RetriesExhaustedError (the attempts and the last error). Any other
 * error (404 NOT_FOUND queue, 403 ACCESS_REFUSED, …) rejects at once. `work` must therefore be safe to repeat.
 */
export function withRabbitConnection<T>(
  options: RabbitToolOptions,
  work: (connection: ChannelModel) => Promise<T>,
): Promise<T> {
  const { url, timeoutMs = 5000, logger } = options;
  const connect = options.connect ?? ((target, socket) => amqp.connect(target, socket));
  // The host only: the URL holds the password.
  const host = hostOf(url);
  return retrying(
    async () => {
      const connection = await connect(url, { timeout: timeoutMs });
      connection.on('error', () => {});
      try {
        return await work(connection);
      } finally {
        await connection.close().catch(() => {});
      }
    },
    {
      ...options.retry,
      what: `rabbitmq ${host}`,
      isRetriable: isRetriableAmqpError,
      onRetry: ({ error, attempt, delayMs }) =>
        logger?.warn(
          { component: 'amqplib', host, attempt, delayMs, err: error },
          'rabbitmq call failed with a transient error; retrying on a fresh connection',
        ),
    },
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unparsable url)';
  }
}
