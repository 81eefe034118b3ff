/**
 * The edge's configuration, from the environment (docs/architecture.md, "Configuration and names"); a bad value
 * names the variable. The API keys are `secret`: an error about them never shows them.
 */
import { readFileSync } from 'node:fs';
import { env, secret } from '@tandem/config';
import { z } from 'zod';
import { ingestGatewayDefaults } from './ingest-gateway/contract.ts';
import { edgeServerDefaults } from './listen.ts';

/** What an API key may be: RFC 6750's b64token (what `Authorization: Bearer` carries), 16..512 characters. */
export const apiKeyRules = Object.freeze({
  pattern: /^[A-Za-z0-9._~+/-]+=*$/,
  minLength: 16,
  maxLength: 512,
});

/** The keys of `entries` (`what(i)` names the i-th in a message), or an issue that never quotes a key. */
function validKeys(
  entries: readonly string[],
  what: (index: number) => string,
  ctx: z.RefinementCtx,
): string[] {
  const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (entries.length === 0) problem('holds no key: give at least one, or unset it to turn API keys off');
  entries.forEach((key, index) => {
    if (key.length < apiKeyRules.minLength || key.length > apiKeyRules.maxLength) {
      problem(`${what(index)} must be ${apiKeyRules.minLength}..${apiKeyRules.maxLength} characters long`);
    } else if (!apiKeyRules.pattern.test(key)) {
      problem(`${what(index)} may hold only A-Z a-z 0-9 . _ ~ + / - (and trailing =)`);
    }
  });
  return [...new Set(entries)];
}

const optionalNumber = (schema: z.ZodNumber) =>
  z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().pipe(schema).optional());

export const configSchema = z
  .object({
    PORT: env.port(8080),
    /**
     * The ingest: `host:port` over gRPC (in Kubernetes a headless Service name, resolved with round_robin), or
     * `http://host:port` over HTTP/JSON (the bench's comparison of the transports).
     */
    INGEST_ADDR: env
      .string('127.0.0.1:50051')
      .refine(
        (value) => /^(?:http:\/\/)?[^\s/]+:\d{1,5}$/.test(value),
        'must be host:port (gRPC) or http://host:port (HTTP/JSON)',
      ),
    LOG_LEVEL: env.logLevel(),
    /** Deadline of every call to the ingest. This and MAX_IN_FLIGHT default to the gateways' own defaults. */
    INGEST_DEADLINE_MS: env.positiveInt(ingestGatewayDefaults.deadlineMs),
    /**
     * Calls awaiting the ingest at once before requests are answered 429. It counts calls, whatever each carries:
     * a gathering of up to EDGE_COALESCE_MAX single messages or a batch of up to 500 holds one.
     */
    MAX_IN_FLIGHT: env.positiveInt(ingestGatewayDefaults.maxInFlight),
    /** Most concurrent POST /input messages gathered into one ProcessTweets call; 1: each alone (ProcessTweet). */
    EDGE_COALESCE_MAX: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.coerce.number().int().min(1).max(500).default(ingestGatewayDefaults.coalesceMax),
    ),
    /**
     * Longest a gathering waits after its first message for a gathered call to come back (ms, 0..100); 0: never
     * waits, each goes at the end of its turn of the event loop (see ingest-gateway/coalesce.ts).
     */
    EDGE_COALESCE_LINGER_MS: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.coerce.number().int().min(0).max(100).default(ingestGatewayDefaults.coalesceLingerMs),
    ),
    /**
     * Gathered calls unanswered before the next gathering waits for one to come back (1..64): 1 sends at once when
     * the ingest is idle and, under load, one call carrying what arrived during the previous one.
     */
    EDGE_COALESCE_CALLS_OUT: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.coerce.number().int().min(1).max(64).default(ingestGatewayDefaults.coalesceCallsOut),
    ),
    /**
     * Shortest time between two gathered calls going, unless full (ms, 0..1000); 0: a gathering goes as soon as a
     * call may. Under load fewer, fuller calls; at low load a message goes at once.
     */
    EDGE_COALESCE_INTERVAL_MS: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.coerce.number().int().min(0).max(1000).default(ingestGatewayDefaults.coalesceIntervalMs),
    ),
    /**
     * Most client connections open at once (1..65535); past it a new connection is closed as soon as it is accepted.
     * Each open connection holds heap (its parser, socket and request), and a load generator that opens a new one
     * whenever answers lag (vegeta, a client retrying) would otherwise grow the heap until the process dies.
     */
    EDGE_MAX_CONNECTIONS: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.coerce.number().int().min(1).max(65_535).default(edgeServerDefaults.maxConnections),
    ),
    /**
     * API keys, comma-separated: POST /input and /input/batch then need `Authorization: Bearer <key>`. Unset: no
     * keys (the local default). Set but empty is an error, not "off": an empty Secret must not open the edge.
     */
    EDGE_API_KEYS: secret(
      z
        .string()
        .optional()
        .transform((value, ctx) => {
          if (value === undefined) return undefined;
          const entries = value
            .split(',')
            .map((key) => key.trim())
            .filter(Boolean);
          return validKeys(entries, (i) => `key ${i + 1} of ${entries.length}`, ctx);
        }),
    ),
    /**
     * The same, from a file with one key per line (a mounted Secret); blank lines and lines starting with `#` are
     * skipped. Read once at start-up: a new key takes a restart.
     */
    EDGE_API_KEYS_FILE: z
      .string()
      .optional()
      .transform((path, ctx) => {
        if (path === undefined) return undefined;
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? 'error';
          ctx.addIssue({ code: 'custom', message: `cannot be read (${code})` });
          return undefined;
        }
        const lines = text.split(/\r?\n/).map((line, index) => ({ key: line.trim(), line: index + 1 }));
        const keys = lines.filter(({ key }) => key !== '' && !key.startsWith('#'));
        return {
          path,
          keys: validKeys(
            keys.map(({ key }) => key),
            (i) => `the key on line ${keys[i]?.line}`,
            ctx,
          ),
        };
      }),
    /** Messages per second each client may send (its token bucket's refill). Unset: no rate limit. */
    EDGE_RATE_LIMIT: optionalNumber(z.number().positive().finite()),
    /** The bucket's size: messages a client may send at once. Default one second's worth (at least 1). */
    EDGE_RATE_BURST: optionalNumber(z.number().int().positive()),
    /**
     * Proxies in front of the edge whose X-Forwarded-For to trust (the client is the address that many hops
     * before the socket's). 0: the socket's address, and X-Forwarded-For is ignored.
     */
    EDGE_TRUST_PROXY: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.coerce.number().int().min(0).max(10).default(0),
    ),
  })
  .superRefine((config, ctx) => {
    if (config.EDGE_API_KEYS !== undefined && config.EDGE_API_KEYS_FILE !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['EDGE_API_KEYS_FILE'],
        message: 'give EDGE_API_KEYS or EDGE_API_KEYS_FILE, not both',
      });
    }
    if (config.EDGE_RATE_BURST !== undefined && config.EDGE_RATE_LIMIT === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['EDGE_RATE_BURST'],
        message: 'needs EDGE_RATE_LIMIT (the bucket refills at that rate)',
      });
    }
  });

export type EdgeConfig = z.output<typeof configSchema>;

/** The API keys the configuration names, or undefined when keys are off. */
export function apiKeysOf(config: EdgeConfig): readonly string[] | undefined {
  return config.EDGE_API_KEYS ?? config.EDGE_API_KEYS_FILE?.keys;
}

/** The rate limit the configuration names, or undefined when it is off. */
export function rateLimitOf(config: EdgeConfig): { perSecond: number; burst: number } | undefined {
  if (config.EDGE_RATE_LIMIT === undefined) return undefined;
  return {
    perSecond: config.EDGE_RATE_LIMIT,
    burst: config.EDGE_RATE_BURST ?? Math.max(1, Math.ceil(config.EDGE_RATE_LIMIT)),
  };
}
