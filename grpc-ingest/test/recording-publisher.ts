// A Publisher that records what it was given, and is unready, fails or stalls on demand: the brokers' stand-in
// for testing the ingest's logic (the real brokers are exercised by the conformance suite and end to end).
import type { Envelope, Publisher } from '@tandem/brokers';

export class RecordingPublisher implements Publisher {
  published: Envelope[] = [];
  /** Publish calls that published. */
  calls = 0;
  ready = true;
  failWith: Error | undefined;
  release: Promise<void> = Promise.resolve();
  async publish(envelopes: readonly Envelope[]): Promise<void> {
    await this.release;
    if (this.failWith) throw this.failWith;
    this.published.push(...envelopes);
    this.calls++;
  }
  isReady(): boolean {
    return this.ready;
  }
  async close(): Promise<void> {}
}
