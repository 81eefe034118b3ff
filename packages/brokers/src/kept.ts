/**
 * One connection (a Kafka admin, an AMQP connection) opened at its first use and kept for the next ones, for a tool
 * that reads again and again (the backlog readers). A connection that failed is dropped, and the next use opens a
 * new one.
 */
export interface Kept<T> {
  /** The connection kept, opened now if there is none (an opening that fails is forgotten). */
  get(): Promise<T>;
  /**
   * Forgets `which` if it is still the one kept, and closes it. One still opening is not waited for (kafkajs retries a
   * connect for seconds): it is closed once it opened.
   */
  drop(which: Promise<T>): Promise<void>;
  /** Drops the one kept, if any. */
  close(): Promise<void>;
}

/**
 * `open` gets a `lost` callback for a connection that ends by itself (the broker closed it): the next get() then
 * opens a new one.
 */
export function keptConnection<T>(
  open: (lost: () => void) => Promise<T>,
  close: (connection: T) => Promise<unknown>,
): Kept<T> {
  let current: Promise<T> | undefined;
  /** The openings that succeeded: dropping one still opening does not wait for it. */
  const opened = new WeakSet<Promise<T>>();
  const forget = (which: Promise<T>) => {
    if (current === which) current = undefined;
  };
  const drop = (which: Promise<T>): Promise<void> => {
    if (current !== which) return Promise.resolve();
    current = undefined;
    const closing = which.then(
      (connection) =>
        close(connection).then(
          () => {},
          () => {},
        ),
      () => {},
    );
    return opened.has(which) ? closing : Promise.resolve();
  };
  return {
    get() {
      if (current) return current;
      const opening: Promise<T> = open(() => forget(opening));
      current = opening;
      opening.then(
        () => opened.add(opening),
        () => forget(opening),
      );
      return opening;
    },
    drop,
    async close() {
      if (current) await drop(current);
    },
  };
}
