import { ChannelError } from './errors';
import { graphEndpoint, postGraph } from './graph-http';
import {
  type ChannelConnector,
  type InstagramConnectorOptions,
  type SendResult,
  type SendTextRequest,
} from './types';

/** The request body of an Instagram Messaging API text message (Instagram echoes no id of ours). */
export function instagramTextBody(request: SendTextRequest): Record<string, unknown> {
  return { recipient: { id: request.to }, message: { text: request.text } };
}

/**
 * A connector for the Instagram Messaging API (Graph): `POST {baseUrl}/{apiVersion}/me/messages`,
 * the token being the Instagram professional account's access token.
 *
 * One call per `sendText`, no retries inside (see {@link createWhatsAppConnector}).
 *
 * @throws TypeError at creation when an option is malformed.
 */
export function createInstagramConnector(options: InstagramConnectorOptions): ChannelConnector {
  const endpoint = graphEndpoint('instagram', options, ['me', 'messages']);
  return {
    channel: 'instagram',
    async sendText(request: SendTextRequest): Promise<SendResult> {
      const answer = await postGraph(endpoint, instagramTextBody(request));
      const id = (answer as { message_id?: unknown } | null)?.message_id;
      if (typeof id !== 'string' || id === '') {
        throw new ChannelError(
          'UNAVAILABLE',
          'instagram',
          `instagram: 2xx answer from ${endpoint.url} without message_id`,
        );
      }
      return { channelMessageId: id };
    },
  };
}
