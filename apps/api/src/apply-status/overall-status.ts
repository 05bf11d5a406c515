import { type MessageStatus, statusRank } from '@fleet/contracts';

/**
 * Whether a channel's status may move from `current` to `next`: only forward in
 * {@link statusRank} order, never out of FAILED (final) — but for a SENT `redriven` by an operator
 * (the router called the channel again after the cause was fixed). Duplicates and older updates
 * that arrive late therefore change nothing.
 */
export function advances(current: MessageStatus, next: MessageStatus, redriven = false): boolean {
  if (current === 'FAILED') return redriven && next === 'SENT';
  return statusRank(next) > statusRank(current);
}

/**
 * A message's overall status from its channels' statuses: FAILED when every channel failed,
 * else the least advanced channel among those that did not fail. A message to `all` that was
 * READ on WhatsApp and is still PENDING on Instagram is PENDING; one READ on WhatsApp whose
 * Instagram delivery FAILED is READ (the per-channel status still shows the failure).
 */
export function overallStatus(channels: readonly MessageStatus[]): MessageStatus {
  const alive = channels.filter((status) => status !== 'FAILED');
  if (alive.length === 0) return channels.length === 0 ? 'PENDING' : 'FAILED';
  return alive.reduce((least, status) => (statusRank(status) < statusRank(least) ? status : least));
}
