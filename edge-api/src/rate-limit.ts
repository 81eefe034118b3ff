/**
 * The per-client rate limit (docs/architecture.md, "The HTTP contract"): a token bucket per client, in memory.
 *
 * Each client's bucket holds up to `burst` tokens and refills at `perSecond`; a message costs one token, so a batch
 * costs its message count. A request is let through when its bucket holds its cost, or is full (a batch larger
 * than the bucket then takes it all and leaves it in debt, so the long-run rate holds for every size of request);
 * otherwise it is refused, taking nothing, with the whole seconds until it would pass (at least 1).
 *
 * Memory is bounded: the buckets are kept in least-recently-used order; one that has refilled completely is the
 * same as a new one and is dropped, and beyond `maxBuckets` the least recently used is dropped even if it is not
 * full (that client then starts again with a full bucket).
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

export interface TokenBucketOptions {
  /** Tokens (messages) added per second. */
  perSecond: number;
  /** The bucket's size. Default one second's worth, at least 1. */
  burst?: number;
  /** Most buckets kept. Default 100,000 (a few MiB). */
  maxBuckets?: number;
  /** A monotonic clock in ms. Default `performance.now()`. */
  now?: () => number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms, on `now`'s clock). */
  at: number;
}

export class TokenBuckets {
  readonly perSecond: number;
  readonly burst: number;
  readonly maxBuckets: number;
  readonly #now: () => number;
  /** Insertion order is recency: the least recently used bucket comes first. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketOptions) {
    if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond)) {
      throw new Error('perSecond must be a positive number');
    }
    this.perSecond = options.perSecond;
    this.burst = options.burst ?? Math.max(1, Math.ceil(options.perSecond));
    if (!(this.burst >= 1)) throw new Error('burst must be at least 1');
    this.maxBuckets = Math.max(1, options.maxBuckets ?? 100_000);
    this.#now = options.now ?? (() => performance.now());
  }

  /** Takes `cost` tokens from `client`'s bucket, or says how long until it could. */
  take(client: string, cost: number): TakeResult {
    const now = this.#now();
    const bucket = this.#buckets.get(client) ?? { tokens: this.burst, at: now };
    bucket.tokens = this.#level(bucket, now);
    bucket.at = now;
    this.#buckets.delete(client);
    this.#buckets.set(client, bucket);
    const needed = Math.min(cost, this.burst);
    const result: TakeResult =
      bucket.tokens >= needed
        ? { ok: true }
        : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((needed - bucket.tokens) / this.perSecond)) };
    if (result.ok) bucket.tokens -= cost;
    this.#evict(now);
    return result;
  }

  /** Buckets kept now. */
  get size(): number {
    return this.#buckets.size;
  }

  #level(bucket: Bucket, now: number): number {
    return Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
  }

  /** From the least recently used: drop the ones that are full again, and any beyond `maxBuckets`. */
  #evict(now: number): void {
    for (const [client, bucket] of this.#buckets) {
      if (this.#buckets.size <= this.maxBuckets && this.#level(bucket, now) < this.burst) return;
      this.#buckets.delete(client);
    }
  }
}

/**
 * The client's address: the socket's, or with `trustedProxies` > 0 the address that many hops before it in
 * X-Forwarded-For (each proxy appends the address it got the request from; what a client wrote itself is further
 * left, and is never used). Unknown (an in-process request) is `unknown`.
 */
export function clientAddress(c: Context, trustedProxies: number): string {
  let socket = 'unknown';
  try {
    socket = getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // not a Node.js server request (app.request in tests)
  }
  if (trustedProxies === 0) return socket;
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const chain = [...forwarded, socket];
  // Bounded: whatever a proxy passes on, one bucket's key stays short.
  return (chain[Math.max(0, chain.length - 1 - trustedProxies)] as string).slice(0, 64);
}
