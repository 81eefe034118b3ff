import { describe, expect, it } from 'vitest';
import { readable } from '../src/readable.ts';

describe('readable', () => {
  it('turns a pino line into time, level, message and key=value fields', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 10, 30, 21, 5, 7, 42),
      service: 'edge-api',
      name: 'edge-api',
      msg: 'ingest not reachable yet',
      ingest: '127.0.0.1:50051',
      attempt: 2,
      reason: 'connect refused',
    });
    expect(readable(line, false)).toBe(
      '21:05:07.042 WARN  ingest not reachable yet ingest=127.0.0.1:50051 attempt=2 reason="connect refused"',
    );
  });

  it("shows an error's type and message, not its stack", () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      msg: 'publish failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
    });
    expect(readable(line, false)).toBe('00:00:00.000 ERROR publish failed err="Error: boom"');
  });

  it('colours the level for a terminal', () => {
    expect(readable(JSON.stringify({ level: 30, time: 0, msg: 'up' }), true)).toContain(
      '\x1b[32mINFO \x1b[0m',
    );
  });

  it('passes on what is not a pino line', () => {
    for (const line of ['plain text', '{"not":"pino"}', '{broken', '[1,2]'])
      expect(readable(line, false)).toBe(line);
  });
});
