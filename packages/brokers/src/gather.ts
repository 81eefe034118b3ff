import type { BatchHandler, Delivery } from './contract.ts';

/** Hands one partition's chunk to the handler; settles with the outcome of the handler call that carried it. */
export type HandOver = (chunk: readonly Delivery[]) => Promise<void>;

interface Gathered {
  chunk: readonly Delivery[];
  settle: PromiseWithResolvers<void>;
}

/**
 * Gathers the chunks of several partitions handed over in the same turn of the event loop into shared handler
 * calls. Both Kafka adapters take the partitions of one fetch concurrently, each in order, and each partition's
 * chunk of a few records would otherwise be a handler call of its own — for the consumers, a store round trip each.
 * Gathered until the next turn, the chunks go to `handle` together, in calls of at most maxBatch deliveries (a
 * chunk is never split: one larger than maxBatch goes alone). Each chunk's promise settles with the call that
 * carried it, so a partition waits for its own chunk before handing over its next (order within a partition holds)
 * and marks its offset handled only after that call resolved; a rejection rejects every chunk of that call, and each
 * of those partitions retries on its own.
 *
 * Not the publish coalescer (coalesce.ts): that one sends one batch at a time and lingers, may split a caller's
 * items across batches, and settles a caller after all of them. Here calls run concurrently (as many as the
 * partitions being handled allow), nothing waits beyond the next turn, and a chunk stays whole, so that its
 * partition's offset is settled by exactly one call.
 */
export function gatherChunks(maxBatch: number, handle: BatchHandler): HandOver {
  let gathered: Gathered[] = [];

  function flush(): void {
    const chunks = gathered;
    gathered = [];
    let call: Gathered[] = [];
    let size = 0;
    for (const entry of chunks) {
      if (size > 0 && size + entry.chunk.length > maxBatch) {
        callHandler(call);
        call = [];
        size = 0;
      }
      call.push(entry);
      size += entry.chunk.length;
    }
    if (call.length > 0) callHandler(call);
  }

  function callHandler(call: Gathered[]): void {
    const batch = call.length === 1 ? (call[0]?.chunk ?? []) : call.flatMap((entry) => entry.chunk);
    // Through a promise: a handler that throws synchronously rejects the call's chunks like one that rejects.
    Promise.resolve()
      .then(() => handle(batch))
      .then(
        () => {
          for (const entry of call) entry.settle.resolve();
        },
        (error: unknown) => {
          for (const entry of call) entry.settle.reject(error);
        },
      );
  }

  return (chunk) => {
    const settle = Promise.withResolvers<void>();
    if (gathered.length === 0) setImmediate(flush);
    gathered.push({ chunk, settle });
    return settle.promise;
  };
}
