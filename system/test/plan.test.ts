import { describe, expect, it } from 'vitest';
import { plan } from '../src/launcher.ts';
import { serviceNames, services } from '../src/services.ts';

const ports = (instances: ReturnType<typeof plan>['instances']) =>
  Object.fromEntries(instances.map((i) => [i.name, i.env]));

describe('the services, described once', () => {
  it('start the ingest first (it creates the topic and queue) and the edge last (it needs the ingest)', () => {
    expect(serviceNames).toEqual(['grpc-ingest', 'kafka-consumer', 'rabbit-consumer', 'edge-api']);
  });

  it('serve /health, /ready and /metrics on a port they declare', () => {
    for (const service of services) {
      expect(service.ports.map((p) => p.name)).toContain(service.adminPort);
    }
  });
});

describe('plan', () => {
  it("gives npm start the services' own ports, and the edge the port asked for", () => {
    const { instances, ingestAddress } = plan({ edgePort: 9090 });
    expect(ports(instances)).toEqual({
      'grpc-ingest': { PORT: '50051', METRICS_PORT: '9464' },
      'kafka-consumer': { METRICS_PORT: '9465' },
      'rabbit-consumer': { METRICS_PORT: '9466' },
      'edge-api': { PORT: '9090', INGEST_ADDR: '127.0.0.1:50051' },
    });
    expect(ingestAddress).toBe('127.0.0.1:50051');
    expect(instances.find((i) => i.name === 'edge-api')?.adminUrl).toBe('http://127.0.0.1:9090');
    expect(instances.find((i) => i.name === 'grpc-ingest')?.adminUrl).toBe('http://127.0.0.1:9464');
  });

  it('moves every port into a block of its own from a port base', () => {
    expect(ports(plan({ portBase: 18_000 }).instances)).toEqual({
      'grpc-ingest': { PORT: '18001', METRICS_PORT: '18002' },
      'kafka-consumer': { METRICS_PORT: '18003' },
      'rabbit-consumer': { METRICS_PORT: '18004' },
      'edge-api': { PORT: '18000', INGEST_ADDR: '127.0.0.1:18001' },
    });
  });

  it('runs two edges and two ingests, each edge balancing over both ingests', () => {
    const { instances, ingestAddress } = plan({ portBase: 18_000, replicas: 2 });
    expect(instances.map((i) => i.name)).toEqual([
      'grpc-ingest',
      'grpc-ingest-2',
      'kafka-consumer',
      'rabbit-consumer',
      'edge-api',
      'edge-api-2',
    ]);
    expect(ingestAddress).toBe('ipv4:127.0.0.1:18001,127.0.0.1:18011');
    expect(ports(instances)['grpc-ingest-2']).toEqual({ PORT: '18011', METRICS_PORT: '18012' });
    expect(ports(instances)['edge-api-2']).toEqual({ PORT: '18010', INGEST_ADDR: ingestAddress });
  });

  it('points the edge at the ingest over HTTP/JSON when asked', () => {
    const { instances, ingestAddress } = plan({ portBase: 18_000, ingest: 'http' });
    expect(ingestAddress).toBe('http://127.0.0.1:18005');
    expect(ports(instances)['grpc-ingest']).toEqual({
      PORT: '18001',
      METRICS_PORT: '18002',
      HTTP_PORT: '18005',
    });
  });

  it('refuses what it cannot run', () => {
    expect(() => plan({ replicas: 2 })).toThrow('two replicas need a portBase');
    expect(() => plan({ portBase: 18_000, replicas: 2, ingest: 'http' })).toThrow(/one ingest/);
  });
});
