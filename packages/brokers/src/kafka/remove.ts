import type { Admin, KafkaJSDeleteGroupsError } from 'kafkajs';
import { type KafkaAdminOptions, withKafkaAdmin } from './client.ts';

export interface RemoveKafkaResourcesOptions extends KafkaAdminOptions {
  topics: readonly string[];
  groupIds: readonly string[];
}

/**
 * Deletes the given topics and consumer groups, whichever exist: a test or bench run's own, once it is over, so
 * that a local broker does not keep every run's partitions. A group that still has members (a consumer killed and
 * not yet expired) is left; the answer lists it. Resolves with what was removed and what was left.
 */
export function removeKafkaResources(
  options: RemoveKafkaResourcesOptions,
): Promise<{ removed: string[]; left: string[] }> {
  // Outside the work, which withKafkaAdmin runs again after a retriable error: what an earlier attempt removed is
  // missing by then, and still counts as removed.
  const removedGroups = new Set<string>();
  const removedTopics = new Set<string>();
  return withKafkaAdmin(options, async (admin) => {
    const left = await deleteGroups(admin, options.groupIds, removedGroups);
    const existing = new Set(await admin.listTopics());
    const topics = options.topics.filter((topic) => existing.has(topic));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    for (const topic of topics) removedTopics.add(topic);
    return { removed: [...removedGroups, ...removedTopics], left };
  });
}

async function deleteGroups(admin: Admin, groupIds: readonly string[], removed: Set<string>) {
  const left: string[] = [];
  for (const groupId of groupIds) {
    if (removed.has(groupId)) continue;
    try {
      await admin.deleteGroups([groupId]);
      removed.add(groupId);
    } catch (error) {
      // By name: Node's ESM import of kafkajs (CommonJS) cannot see its error classes as named exports.
      if ((error as Error).name !== 'KafkaJSDeleteGroupsError') throw error;
      const errors = (error as KafkaJSDeleteGroupsError).groups.map(
        (group) => group.error as { type?: string; retriable?: boolean } | undefined,
      );
      // A coordinator that moved or is still loading (after a broker restart): thrown, for withKafkaAdmin to retry
      // (KafkaJSDeleteGroupsError is marked retriable).
      if (errors.length > 0 && errors.every((e) => e?.retriable === true)) throw error;
      const types = errors.map((e) => e?.type);
      // A group that never existed (its consumer never joined) is not a failure.
      if (!types.includes('GROUP_ID_NOT_FOUND')) left.push(`${groupId} (${types.join(', ')})`);
    }
  }
  return left;
}
