// An in-memory IngestGateway for the HTTP tests: records every submit, and fails or reports unready on demand.
import {
  IngestError,
  type IngestErrorKind,
  type IngestGateway,
  type IngestMessage,
} from '../src/ingest-gateway/contract.ts';

export class MemoryIngest implements IngestGateway {
  /** Every accepted submit, in order, as the app handed it over. */
  readonly submitted: IngestMessage[][] = [];
  /** The signals the app passed, to check cancellation. */
  readonly signals: (AbortSignal | undefined)[] = [];
  ready = true;
  /** When set, every submit fails with this kind. */
  failWith: IngestErrorKind | undefined;
  retryAfterSeconds: number | undefined;

  async submit(messages: readonly IngestMessage[], signal?: AbortSignal): Promise<void> {
    this.signals.push(signal);
    if (this.failWith) {
      throw new IngestError(this.failWith, `test: ${this.failWith}`, {
        retryAfterSeconds: this.retryAfterSeconds,
      });
    }
    this.submitted.push(messages.map((message) => ({ ...message })));
  }

  /** One message, recorded as a submit of its own. */
  submitOne(message: IngestMessage, signal?: AbortSignal): Promise<void> {
    return this.submit([message], signal);
  }

  async isReady(): Promise<boolean> {
    return this.ready;
  }
}
