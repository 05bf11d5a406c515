/** A UUID in its text form: the ids of dead letters, redrives and outbox events. */
const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i;

/** Whether `value` can be bound to a `uuid` column (PostgreSQL refuses anything else with an error). */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

/** The Jaeger UI's page of a trace, when both the UI and the trace are known. */
export function jaegerTraceUrl(uiUrl: string | undefined, traceId: string | null): string | null {
  return uiUrl && traceId ? `${uiUrl.replace(/\/$/, '')}/trace/${traceId}` : null;
}
