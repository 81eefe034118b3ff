/**
 * The message as it travels through both brokers: one JSON document per record / AMQP message, the same bytes on
 * both pipelines. JSON rather than protobuf so that anyone can read a record with the brokers' own tools.
 */
import { isValidId } from './input.ts';

/** A validated, normalised, accepted message: what the ingest publishes and the consumers count. */
export interface WeatherMessage {
  /** Idempotency id: the client's (body `id` or `Idempotency-Key`) or a UUIDv7 the edge assigned. */
  id: string;
  description: string;
  /** Trimmed, upper-cased. */
  country: string;
  /** The canonical (English) weather value, e.g. `Rainy`. */
  weather: string;
  /** Unix ms at which the ingest accepted it; consumers measure end-to-end latency from it. */
  acceptedAt: number;
}

/** A record that cannot be read as a WeatherMessage: it goes to the dead-letter destination, never counted. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

export function encodeMessage(message: WeatherMessage): Buffer {
  const { id, description, country, weather, acceptedAt } = message;
  return Buffer.from(JSON.stringify({ id, description, country, weather, acceptedAt }));
}

export function decodeMessage(bytes: Buffer | Uint8Array): WeatherMessage {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new PoisonMessageError('not JSON');
  }
  if (typeof value !== 'object' || value === null) throw new PoisonMessageError('not a JSON object');
  const { id, description, country, weather, acceptedAt } = value as Record<string, unknown>;
  for (const [name, field] of Object.entries({ id, description, country, weather })) {
    if (typeof field !== 'string' || field.length === 0)
      throw new PoisonMessageError(`${name} is not a non-empty string`);
  }
  // What the counting store would refuse for the whole batch must be refused here, for this record alone: else one
  // bad record would fail every batch it lands in, for ever, and block the stream behind it.
  if (!isValidId(id as string)) throw new PoisonMessageError('id is not a valid id');
  if ((country as string).includes(':')) throw new PoisonMessageError("country contains ':'");
  if (typeof acceptedAt !== 'number' || !Number.isFinite(acceptedAt)) {
    throw new PoisonMessageError('acceptedAt is not a number');
  }
  return { id, description, country, weather, acceptedAt } as WeatherMessage;
}
