import type { Admin, KafkaJSDeleteGroupsError } from 'kafkajs';
import { type KafkaClientOptions, withKafkaAdmin } from './client.ts';

export interface RemoveKafkaResourcesOptions
  extends Partial<Pick<KafkaClientOptions, 'clientId' | 'logger'>> {
  brokers: readonly string[];
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
  return withKafkaAdmin(options, async (admin) => {
    const groups = await deleteGroups(admin, options.groupIds);
    const existing = new Set(await admin.listTopics());
    const topics = options.topics.filter((topic) => existing.has(topic));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    return { removed: [...groups.removed, ...topics], left: groups.left };
  });
}

async function deleteGroups(admin: Admin, groupIds: readonly string[]) {
  const removed: string[] = [];
  const left: string[] = [];
  for (const groupId of groupIds) {
    try {
      await admin.deleteGroups([groupId]);
      removed.push(groupId);
    } catch (error) {
      // By name: Node's ESM import of kafkajs (CommonJS) cannot see its error classes as named exports.
      if ((error as Error).name !== 'KafkaJSDeleteGroupsError') throw error;
      const types = (error as KafkaJSDeleteGroupsError).groups.map(
        (group) => (group.error as { type?: string } | undefined)?.type,
      );
      // A group that never existed (its consumer never joined) is not a failure.
      if (!types.includes('GROUP_ID_NOT_FOUND')) left.push(`${groupId} (${types.join(', ')})`);
    }
  }
  return { removed, left };
}
