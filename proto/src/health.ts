/**
 * The standard gRPC health service, `grpc.health.v1.Health`, with the definition grpc-node itself publishes
 * (grpc-health-check): the ingest answers `Check` for the whole server, the edge asks it for `/ready`, and a
 * Kubernetes gRPC probe can ask it too.
 */
import type {
  Client,
  ClientUnaryCall,
  ServiceDefinition,
  ServiceError,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import { type ServingStatus, service } from 'grpc-health-check';

export type { ServingStatus } from 'grpc-health-check';

export const healthService = service as unknown as ServiceDefinition;

/**
 * `Check` answered from `isServing()` at the moment of the call (SERVING / NOT_SERVING), for every service name:
 * this server has one. `Watch` is left out: grpc-js answers UNIMPLEMENTED, which the protocol allows.
 */
export function healthHandlers(isServing: () => boolean): UntypedServiceImplementation {
  return {
    Check: (_call: unknown, callback: (error: null, response: { status: ServingStatus }) => void) => {
      callback(null, { status: isServing() ? 'SERVING' : 'NOT_SERVING' });
    },
  };
}

export interface HealthClient extends Client {
  Check(
    request: { service: string },
    options: { deadline: Date | number },
    callback: (error: ServiceError | null, response?: { status: ServingStatus }) => void,
  ): ClientUnaryCall;
}

/** A client of the health service (pass `channelOverride` to share another client's channel). */
export const HealthClient = makeGenericClientConstructor(
  healthService,
  'grpc.health.v1.Health',
) as unknown as new (
  ...args: ConstructorParameters<ReturnType<typeof makeGenericClientConstructor>>
) => HealthClient;
