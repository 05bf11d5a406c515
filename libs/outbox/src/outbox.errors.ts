/**
 * - `OUTBOX_PAYLOAD_INVALID`: the payload does not match the topic's schema; nothing was written.
 * - `OUTBOX_EVENT_INVALID`: a required field is missing or a header is malformed; nothing was written.
 */
export type OutboxErrorCode = 'OUTBOX_PAYLOAD_INVALID' | 'OUTBOX_EVENT_INVALID';

/** Base error of `@fleet/outbox`: branch on `code`. A caller's bug or bad input, never retriable. */
export class OutboxError extends Error {
  override readonly name = 'OutboxError';
  readonly retriable = false;

  constructor(
    readonly code: OutboxErrorCode,
    message: string,
  ) {
    super(message);
  }
}
