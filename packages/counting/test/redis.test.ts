import { openRedisStore } from '../src/index.ts';
import { describeOpen } from './open.case.ts';
import { serverUnderTest, stackUrl } from './server-harness.ts';
import { countingStoreCases } from './store.case.ts';

const url = stackUrl('REDIS_URL');
countingStoreCases(serverUnderTest('Redis (ioredis)', url, openRedisStore));
describeOpen('openRedisStore', url, openRedisStore);
