import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerUnavailableError } from '../errors.ts';
import type { BrokerLogger } from '../logger.ts';

/**
 * Whether the Kafka broker can take a publish, as both Kafka publishers (kafkajs, @platformatic/kafka) track it.
 * Neither client reports an outage between sends (each reconnects on the next send and retries it), so a failed
 * send marks the broker unavailable, and `reachable` is probed every healthCheckIntervalMs, and while unavailable
 * every probeIntervalMs (doubling to 2 s): readiness follows the broker even when nothing is published, and while
 * it is away publish() is refused at once, so that callers answer 503 quickly instead of each waiting out its own
 * retries.
 */
export interface KafkaAvailability {
  /** What made the broker unavailable, or undefined while it answers. */
  readonly unavailable: Error | undefined;
  /** After a failed send (ignored once stopped): publishes are refused until a probe succeeds. */
  markUnavailable(error: unknown): void;
  /** Why a publish must be refused now — stopped, or the broker unavailable — or undefined. */
  refusal(): BrokerUnavailableError | undefined;
  isReady(): boolean;
  /** Stops probing at once (publishes are refused from now on); resolves when the probe loop has ended. */
  stop(): Promise<void>;
}

export interface KafkaAvailabilityOptions {
  topic: string;
  logger: BrokerLogger;
  probeIntervalMs: number;
  healthCheckIntervalMs: number;
  /** One probe, one attempt: undefined when the broker answered for the topic, else why not. */
  reachable(): Promise<Error | undefined>;
}

export function watchKafkaAvailability(options: KafkaAvailabilityOptions): KafkaAvailability {
  const { topic, logger, probeIntervalMs, healthCheckIntervalMs, reachable } = options;
  let unavailable: Error | undefined;
  let open = true;

  function markUnavailable(error: unknown): void {
    if (!open) return;
    if (!unavailable)
      logger.warn({ topic, err: error }, 'kafka unavailable: publishes rejected until it answers');
    unavailable = error instanceof Error ? error : new Error(String(error));
  }

  async function probe(signal: AbortSignal): Promise<void> {
    let delay = probeIntervalMs;
    while (open) {
      try {
        await sleep(unavailable ? delay : healthCheckIntervalMs, undefined, { signal, ref: false });
      } catch {
        return; // stopped
      }
      const error = await reachable();
      if (!open) return;
      if (error === undefined) {
        if (unavailable) logger.info({ topic }, 'kafka reachable again: publishing');
        unavailable = undefined;
        delay = probeIntervalMs;
      } else if (unavailable) {
        delay = Math.min(delay * 2, 2000);
      } else {
        markUnavailable(error);
      }
    }
  }
  const stopProbing = new AbortController();
  const probing = probe(stopProbing.signal);

  return {
    get unavailable() {
      return unavailable;
    },
    markUnavailable,
    refusal() {
      if (!open) return new BrokerUnavailableError('kafka', 'the publisher is closed');
      if (unavailable) {
        return new BrokerUnavailableError('kafka', `unreachable (${unavailable.message}); retry later`);
      }
      return undefined;
    },
    isReady: () => open && !unavailable,
    stop() {
      open = false;
      stopProbing.abort();
      return probing;
    },
  };
}
