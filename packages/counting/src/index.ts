export type { ApplyResult, Countable, CountingStore, Counts } from './contract.ts';
export { countryWeatherField, DEFAULT_DEDUP_TTL_SECONDS, keys } from './layout.ts';
export {
  MemoryCountingStore,
  type MemoryCountingStoreOptions,
  MemoryKeyspace,
  type MemoryKeyspaceOptions,
} from './memory-store.ts';
export { refusalReplies, StoreWriteRefusedError, type WriteRefusal, writeRefusalOf } from './refusal.ts';
export {
  type ClientCountingStore,
  type CountingClient,
  type CountingStoreOptions,
  countBatchScript,
  createCountingStore,
  MAX_MESSAGES_PER_SCRIPT_CALL,
  type OpenStoreOptions,
  openRedisStore,
  openValkeyStore,
} from './server-store.ts';
