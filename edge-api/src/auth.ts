/**
 * API keys on the message routes (docs/architecture.md, "The HTTP contract"): `Authorization: Bearer <key>`,
 * checked by hono's own `bearer-auth` middleware with our comparison and our answers:
 *
 * - no Authorization header, or one that is not `Bearer <b64token>` → 401 `api_key_required`;
 * - a well-formed key that is not one of ours → 403 `api_key_invalid`.
 *
 * Both carry `WWW-Authenticate` and the edge's error shape. A key is compared in constant time: the presented key
 * and every configured one are reduced to SHA-256 digests (so their lengths do not matter), and the presented
 * digest is compared with each configured digest by `crypto.timingSafeEqual`, all of them every time, so neither
 * a key's length, nor how much of it matched, nor which key matched shows in the time taken. Keys are never logged
 * and never put in an answer; the app knows a client by the index of its key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { errorResponse } from './errors.ts';

/** The SHA-256 digest of a key: 32 bytes, whatever the key's length. */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * The index of `presented` among the keys whose digests are `digests`, or -1. Compares with every digest, in
 * constant time each, whether or not one matched already.
 */
export function matchKey(presented: string, digests: readonly Buffer[]): number {
  const digest = keyDigest(presented);
  let found = -1;
  for (let index = 0; index < digests.length; index++) {
    const equal = timingSafeEqual(digest, digests[index] as Buffer);
    if (equal && found === -1) found = index;
  }
  return found;
}

export type Refusal = 'missing_key' | 'invalid_key';

export interface ApiKeyAuthOptions {
  keys: readonly string[];
  /** Called with each refusal (the metrics count them). */
  onRefused?: (reason: Refusal) => void;
  /** Called with the index of the key a request presented, once it matched. */
  onAccepted: (c: Context, keyIndex: number) => void;
}

const REALM = 'tandem';

/** The middleware that lets a request through only with one of `keys`. */
export function apiKeyAuth(options: ApiKeyAuthOptions): MiddlewareHandler {
  const digests = options.keys.map(keyDigest);
  if (digests.length === 0) throw new Error('apiKeyAuth needs at least one key');
  const refuse = (reason: Refusal, status: 401 | 403, code: string, message: string, challenge: string) => {
    return () => {
      options.onRefused?.(reason);
      return errorResponse(status, code, message, [], { 'WWW-Authenticate': challenge });
    };
  };
  const required = refuse(
    'missing_key',
    401,
    'api_key_required',
    'this route needs an API key: send "Authorization: Bearer <key>"',
    `Bearer realm="${REALM}"`,
  );
  return bearerAuth({
    realm: REALM,
    verifyToken: (token, c) => {
      const index = matchKey(token, digests);
      if (index === -1) return false;
      options.onAccepted(c, index);
      return true;
    },
    noAuthenticationHeader: { message: required },
    invalidAuthenticationHeader: {
      message: refuse(
        'missing_key',
        401,
        'api_key_required',
        'the Authorization header must be "Bearer <key>"',
        `Bearer realm="${REALM}", error="invalid_request"`,
      ),
    },
    invalidToken: {
      message: refuse(
        'invalid_key',
        403,
        'api_key_invalid',
        'the API key is not valid',
        `Bearer realm="${REALM}", error="invalid_token"`,
      ),
    },
  });
}
