import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type ChannelConnector, type SendTextRequest } from '@fleet/channels';
import { channelFailureOf, type ChannelFailure } from './channel-error';
import { type RouteMetrics } from './route.metrics';

export type CallResult = { ok: true; channelMessageId: string } | { ok: false; failure: ChannelFailure };

const tracer = trace.getTracer('message-router');

/**
 * One channel API call inside a CLIENT span, a child of the consumer's `<topic> process` span. The
 * fleet's tracing instruments `http` only, and connectors may use `fetch` (undici), so without this
 * span the channel hop would be missing from the trace. Never throws: every failure is returned.
 */
export async function callChannel(
  connector: ChannelConnector,
  request: SendTextRequest,
  metrics: RouteMetrics,
): Promise<CallResult> {
  const { channel } = connector;
  return tracer.startActiveSpan(
    `${channel} send`,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'messaging.fleet.channel': channel, 'messaging.message.id': request.messageId },
    },
    async (span): Promise<CallResult> => {
      const stopTimer = metrics.channelCallDuration.startTimer({ channel });
      try {
        const { channelMessageId } = await connector.sendText(request);
        stopTimer({ result: 'ok' });
        span.setAttribute('messaging.fleet.channel_message_id', channelMessageId);
        return { ok: true, channelMessageId };
      } catch (error) {
        const failure = channelFailureOf(error);
        stopTimer({ result: failure.code });
        span.recordException(error instanceof Error ? error : new Error(String(error)));
        span.setAttributes({
          'error.type': failure.code,
          ...(failure.status === undefined ? {} : { 'http.response.status_code': failure.status }),
        });
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
        return { ok: false, failure };
      } finally {
        span.end();
      }
    },
  );
}
