/**
 * A publish or read that could not reach the broker: not connected, reconnecting, closed, blocked by a resource
 * alarm, or no confirm in time. Callers answer 503 and the client retries with the same id (counting is
 * idempotent, so a message that was stored after all is not counted twice).
 */
export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
  readonly broker: string;

  constructor(broker: string, message: string, options?: ErrorOptions) {
    super(`${broker}: ${message}`, options);
    this.broker = broker;
  }
}
