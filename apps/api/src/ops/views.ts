import { type DeadLetter } from '@fleet/ops';
import { type DeadLetterSummary, type DeadLetterView } from './ops.schemas';

export function toSummary(d: DeadLetter): DeadLetterSummary {
  return {
    id: d.id,
    topic: d.topic,
    dlqTopic: d.dlqTopic,
    dlqPartition: d.dlqPartition,
    dlqOffset: d.dlqOffset,
    consumerGroup: d.consumerGroup,
    reason: d.reason,
    errorCode: d.errorCode,
    errorMessage: d.errorMessage,
    attempts: d.attempts,
    key: d.key,
    eventId: d.eventId,
    eventType: d.eventType,
    failedAt: d.failedAt,
    redriveCount: d.redriveCount,
    status: d.status,
    statusReason: d.statusReason,
    statusAt: d.statusAt,
    redriveId: d.redriveId,
    traceId: d.traceId,
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The whole record: the value as text and, when it is JSON, parsed (a poison value may be neither). */
export function toView(d: DeadLetter, jaegerUrl: string | null): DeadLetterView {
  let valueText: string | null = null;
  let payload: unknown = null;
  if (d.value && d.value.length > 0) {
    try {
      valueText = utf8.decode(d.value);
    } catch {
      valueText = `(not UTF-8: ${d.value.length} bytes, base64 ${d.value.toString('base64').slice(0, 2_000)})`;
    }
    try {
      payload = JSON.parse(valueText) as unknown;
    } catch {
      payload = null;
    }
  }
  return {
    ...toSummary(d),
    headers: d.headers,
    payload,
    valueText,
    originalPartition: d.originalPartition,
    originalOffset: d.originalOffset,
    firstFailureAt: d.firstFailureAt,
    jaegerUrl,
  };
}
