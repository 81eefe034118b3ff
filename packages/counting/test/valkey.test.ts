import { openValkeyStore } from '../src/index.ts';
import { describeOpen } from './open.case.ts';
import { serverUnderTest, stackUrl } from './server-harness.ts';
import { countingStoreCases } from './store.case.ts';

const url = stackUrl('VALKEY_URL');
countingStoreCases(serverUnderTest('Valkey (iovalkey)', url, openValkeyStore));
describeOpen('openValkeyStore', url, openValkeyStore);
