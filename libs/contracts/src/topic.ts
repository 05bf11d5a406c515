import { type ZodType } from 'zod';

/**
 * A versioned topic name: dot-separated lower-case segments ending in a version number,
 * e.g. `chat.message.outgoing.1`. A breaking schema change gets a new name (`….2`),
 * never an in-place edit, so old and new consumers can run side by side.
 */
export const TOPIC_NAME_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+\.[1-9][0-9]*$/;

/** Everything the fleet needs to know about one topic: where it lives and what it carries. */
export interface TopicContract<T> {
  /** Versioned name (see {@link TOPIC_NAME_PATTERN}). */
  readonly name: string;
  /** Partition count of the topic and of its `.retry` and `.dlq` companions. */
  readonly partitions: number;
  /** When true, producers must give a key: per-key order is part of the contract. */
  readonly keyRequired: boolean;
  /** Schema every value on the topic satisfies; producers and consumers both validate. */
  readonly schema: ZodType<T>;
  /** One sentence for humans: what an event on this topic means. */
  readonly description: string;
}

export interface TopicDefinition<T> {
  name: string;
  schema: ZodType<T>;
  description: string;
  /** @defaultValue 6 */
  partitions?: number;
  /** @defaultValue true */
  keyRequired?: boolean;
}

export class ContractError extends Error {
  readonly code = 'INVALID_TOPIC_DEFINITION';
  constructor(message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

export function defineTopic<T>(definition: TopicDefinition<T>): TopicContract<T> {
  const { name, schema, description, partitions = 6, keyRequired = true } = definition;
  if (!TOPIC_NAME_PATTERN.test(name)) {
    throw new ContractError(
      `topic name "${name}" must be dot-separated lower-case segments ending in a version, e.g. "chat.message.outgoing.1"`,
    );
  }
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new ContractError(`topic "${name}": partitions must be a positive integer, got ${partitions}`);
  }
  return Object.freeze({ name, schema, description, partitions, keyRequired });
}

/**
 * The contract under a namespace: the same schema and settings on `<namespace>.<name>`. One
 * cluster then holds several isolated copies of the fleet's topics (a test run, a developer's
 * local fleet beside a shared one). No namespace → the contract itself.
 */
export function inNamespace<T>(contract: TopicContract<T>, namespace: string | undefined): TopicContract<T> {
  if (!namespace) return contract;
  if (!/^[a-z][a-z0-9-]*$/.test(namespace)) {
    throw new ContractError(
      `topic namespace "${namespace}" must be one lower-case segment ([a-z][a-z0-9-]*)`,
    );
  }
  return defineTopic({ ...contract, name: `${namespace}.${contract.name}` });
}

/** Where a consumer group parks a message whose handler failed retriably, until its due time. */
export const retryTopicOf = (topic: string): string => `${topic}.retry`;
/** Where messages end that no retry will fix: schema-invalid, non-retriable, or out of attempts. */
export const dlqTopicOf = (topic: string): string => `${topic}.dlq`;

/**
 * A consumer group id in a topic namespace: `<namespace>.<group>`, or the group itself without
 * one. Consumers of namespaced topics use it so two namespaces on one broker never share a group
 * (a shared group would hand one namespace's partitions to the other's members).
 */
export function groupInNamespace(group: string, namespace: string | undefined): string {
  if (!namespace) return group;
  if (!/^[a-z][a-z0-9-]*$/.test(namespace)) {
    throw new ContractError(
      `topic namespace "${namespace}" must be one lower-case segment ([a-z][a-z0-9-]*)`,
    );
  }
  return `${namespace}.${group}`;
}
