// What the tests of both IngestGateways (gRPC and HTTP/JSON) share.
import { expect } from 'vitest';
import { IngestError, type IngestMessage } from '../src/ingest.ts';

export const message = (id: string, country = 'GT'): IngestMessage => ({
  id,
  description: 'Está lloviendo',
  country,
  weather: 'Rainy',
});

/** The IngestError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<IngestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IngestError);
  return error as IngestError;
}
