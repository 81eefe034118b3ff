/**
 * GET /ready on the consumer's metrics port: 200 `{"status":"ready"}` while it can do its work, else 503 with
 * why, in the edge's error shape — `{"error":{"code":"not_ready","message":"…"}}`. Not ready: stopping, the
 * subscriber not consuming (broker connection or subscription down), or the store refusing writes (OOM, READONLY).
 * GET /health stays the liveness check (200 while the process serves), so that a refusing store does not get the
 * consumer restarted: it waits, holding its batches, and a restart would change nothing.
 */
import type { Subscriber } from '@tandem/brokers';
import type { RouteHandler } from '@tandem/service';
import type { StoreWrites } from './store-writes.ts';

export interface ReadinessSources {
  subscriber: Pick<Subscriber, 'isReady'>;
  writes: Pick<StoreWrites, 'refusing'>;
  /** Aborted once the consumer is stopping. */
  stopping?: AbortSignal;
}

/** Why the consumer is not ready, or an empty list. */
export function notReadyBecause({ subscriber, writes, stopping }: ReadinessSources): string[] {
  const reasons: string[] = [];
  if (stopping?.aborted) reasons.push('shutting down');
  else if (!subscriber.isReady())
    reasons.push('not consuming (the broker connection or subscription is down)');
  if (writes.refusing) reasons.push(`the store refuses writes (${writes.refusing})`);
  return reasons;
}

export function readinessRoutes(sources: ReadinessSources): Record<string, RouteHandler> {
  return {
    'GET /ready': (_, response) => {
      const reasons = notReadyBecause(sources);
      const [status, body] =
        reasons.length === 0
          ? [200, { status: 'ready' }]
          : [503, { error: { code: 'not_ready', message: reasons.join('; ') } }];
      response
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(body));
    },
  };
}
