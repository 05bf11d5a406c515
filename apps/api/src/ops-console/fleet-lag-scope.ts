import { ALL_TOPICS, dlqTopicOf, inNamespace, retryTopicOf } from '@fleet/contracts';

/** Which consumer groups and topics of the cluster the queues view reports. */
export interface LagScope {
  groups: (groupId: string) => boolean;
  topics: (topic: string) => boolean;
}

/**
 * This fleet's share of a cluster: the topics of its contracts with their `.retry` and `.dlq`
 * companions (in its namespace, when it has one), and the groups reading them. A namespace also
 * narrows the groups by name first (`<namespace>.<group>`), which spares the broker one offset read
 * per group of every other namespace; without one, any group may read the fleet's topics (the
 * dead-letter indexer, a tool's), so all are asked and the topics decide.
 */
export function fleetLagScope(namespace: string | undefined): LagScope {
  const topics = new Set(
    ALL_TOPICS.flatMap((contract) => {
      const name = inNamespace(contract, namespace).name;
      return [name, retryTopicOf(name), dlqTopicOf(name)];
    }),
  );
  return {
    groups: namespace ? (groupId) => groupId.startsWith(`${namespace}.`) : () => true,
    topics: (topic) => topics.has(topic),
  };
}
