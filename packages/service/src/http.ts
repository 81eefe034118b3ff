import type { Server } from 'node:http';

/**
 * Stops an HTTP server gracefully: no new connections, requests in flight finish, then it resolves.
 * `server.close()` closes only the keep-alive connections idle at that moment; one that was busy goes idle after
 * its response and would hold the close open until its client hangs up, so it is closed then.
 */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const idle = setInterval(() => server.closeIdleConnections(), 250);
    idle.unref();
    server.close((error) => {
      clearInterval(idle);
      if (error) reject(error);
      else resolve();
    });
  });
}
