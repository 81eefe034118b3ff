import type { RemoveKafkaResourcesOptions } from '../kafka/remove.ts';
import { isRetriablePlatformaticError, protocolErrorIds, withPlatformaticAdmin } from './client.ts';

/**
 * removeKafkaResources's twin: deletes the given topics and consumer groups, whichever exist. A group that still
 * has members is left, and the answer lists it. Resolves with what was removed and what was left.
 */
export function removePlatformaticKafkaResources(
  options: RemoveKafkaResourcesOptions,
): Promise<{ removed: string[]; left: string[] }> {
  // Outside the work, which withPlatformaticAdmin runs again after a retriable error.
  const removedGroups = new Set<string>();
  const removedTopics = new Set<string>();
  return withPlatformaticAdmin(options, async (admin) => {
    const left: string[] = [];
    for (const groupId of options.groupIds) {
      if (removedGroups.has(groupId)) continue;
      try {
        await admin.deleteGroups({ groups: [groupId] });
        removedGroups.add(groupId);
      } catch (error) {
        // A coordinator that moved or is still loading: for withPlatformaticAdmin to retry.
        if (isRetriablePlatformaticError(error)) throw error;
        const ids = protocolErrorIds(error);
        if (ids.length === 0) throw error;
        // A group that never existed (its consumer never joined) is not a failure.
        if (!ids.includes('GROUP_ID_NOT_FOUND')) left.push(`${groupId} (${ids.join(', ')})`);
      }
    }
    const existing = new Set(await admin.listTopics());
    const topics = options.topics.filter((topic) => existing.has(topic));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    for (const topic of topics) removedTopics.add(topic);
    return { removed: [...removedGroups, ...removedTopics], left };
  });
}
