/**
 * The fault suite's private local stack: the same servers as `npm run stack:up`, in a folder of their own with every
 * port shifted, so that restarting a broker never disturbs the main stack other tests use.
 */
import { join } from 'node:path';
import { projectRoot } from '@tandem/config';
import { type LocalStack, localStack } from '@tandem/stack';

export function faultsStack(): LocalStack {
  return localStack({
    dir: process.env.FAULTS_STACK_DIR ?? join(projectRoot, '.stack-faults'),
    portOffset: Number(process.env.FAULTS_STACK_PORT_OFFSET ?? 1000),
  });
}
