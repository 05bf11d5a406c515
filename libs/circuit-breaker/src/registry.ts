import { type Registry } from 'prom-client';
import { type Breaker } from './breaker';

/*
 * The breakers of a process, by the metrics registry they export to. An app has one registry
 * (the service kit builds it), so "the breakers of this registry" is "this app's breakers", and
 * tests that run several apps, or many breakers, in one process keep them apart for free.
 */
const built = new WeakMap<Registry, Set<Breaker>>();
const watchers = new WeakMap<Registry, Set<(breaker: Breaker) => void>>();

/** Called by the Breaker's constructor. */
export function registerBreaker(registry: Registry, breaker: Breaker): void {
  let breakers = built.get(registry);
  if (!breakers) built.set(registry, (breakers = new Set()));
  breakers.add(breaker);
  for (const watcher of watchers.get(registry) ?? []) watcher(breaker);
}

/** Called by `Breaker.shutdown()`: a shut-down breaker is no longer anyone's to control. */
export function unregisterBreaker(registry: Registry, breaker: Breaker): void {
  built.get(registry)?.delete(breaker);
}

/** The live (not shut down) breakers built with `registry`, in the order they were built. */
export function breakersOf(registry: Registry): Breaker[] {
  return [...(built.get(registry) ?? [])];
}

/**
 * Calls `watcher` with every breaker built with `registry` from now on (a client created after
 * boot, e.g. on first use); returns the function that stops watching.
 */
export function onBreakerBuilt(registry: Registry, watcher: (breaker: Breaker) => void): () => void {
  let set = watchers.get(registry);
  if (!set) watchers.set(registry, (set = new Set()));
  set.add(watcher);
  return () => set.delete(watcher);
}
