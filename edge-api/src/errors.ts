/**
 * Every error the edge answers, in one shape (docs/architecture.md, "The HTTP contract"):
 * `{"error": {"code", "message", "details": [...]}}`.
 * An `ApiError` carries its status, code and headers (Retry-After, Allow), so any module can throw one and the
 * app's error handler turns it into the response.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ErrorBody {
  error: { code: string; message: string; details: unknown[] };
}

export class ApiError extends HTTPException {
  override name = 'ApiError';
  readonly code: string;
  readonly details: unknown[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    options: { details?: unknown[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(status, { message, cause: options.cause });
    this.code = code;
    this.details = options.details ?? [];
    this.headers = options.headers ?? {};
  }

  override getResponse(): Response {
    return errorResponse(this.status, this.code, this.message, this.details, this.headers);
  }
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  details: unknown[] = [],
  headers: Record<string, string> = {},
): Response {
  const body: ErrorBody = { error: { code, message, details } };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
  });
}
