import { randomBytes, randomUUID } from 'node:crypto';
import { compatibilityPartitioner } from '@platformatic/kafka';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartitioner } from '../src/kafka/partitioner.ts';
import { murmur2 } from '../src/murmur2.ts';
import { platformaticKeyPartitioner } from '../src/platformatic/publisher.ts';

/** UUIDs (the ids tandem gives) and random bytes of every length up to 69. */
const keys = Array.from({ length: 5000 }, (_, n) => (n % 2 === 0 ? randomUUID() : randomBytes(n % 70)));

describe('key partitioners', () => {
  it("computes Kafka's murmur2 (the Java client's test vectors)", () => {
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2('abc')).toBe(479470107);
  });

  it("puts every key on the partition kafkajs's DefaultPartitioner chooses", () => {
    const ours = keyPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({
      partitionId,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    for (const key of keys) {
      const args = { topic: 't', partitionMetadata, message: { key, value: null } };
      expect(ours(args)).toBe(theirs(args));
    }
  });

  it("gives every key the hash @platformatic/kafka's compatibilityPartitioner gives", () => {
    for (const key of keys) {
      const bytes = Buffer.from(key);
      expect(platformaticKeyPartitioner({}, bytes)).toBe(compatibilityPartitioner({} as never, bytes));
    }
    expect(platformaticKeyPartitioner({}, undefined)).toBe(0);
  });
});
