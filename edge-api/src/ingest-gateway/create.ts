/**
 * The IngestGateway for INGEST_ADDR: `http://host:port` → HTTP/JSON (for comparing the transports in the bench),
 * anything else (`host:port`, what Kubernetes uses) → gRPC.
 */
import type { IngestGatewayOptions } from './calls.ts';
import { GrpcIngestGateway } from './grpc.ts';
import { HttpIngestGateway } from './http.ts';

export function createIngestGateway(
  address: string,
  options: IngestGatewayOptions = {},
): GrpcIngestGateway | HttpIngestGateway {
  return address.startsWith('http://')
    ? new HttpIngestGateway({ address, ...options })
    : new GrpcIngestGateway({ address, ...options });
}
