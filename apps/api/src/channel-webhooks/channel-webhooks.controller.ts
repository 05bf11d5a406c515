import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  answerSubscriptionChallenge,
  parseInstagramWebhook,
  parseWhatsAppWebhook,
  verifyWebhookSignature,
  WebhookPayloadError,
  WEBHOOK_SIGNATURE_HEADER,
  type ChannelStatusEvent,
} from '@fleet/channels';
import { DELIVERY_CHANNELS, type DeliveryChannel } from '@fleet/contracts';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Config } from '../config';
import { ApiError, badRequest } from '../http/api.errors';
import { UNPARSEABLE_BODY } from '../http/configure-http';
import { errorResponse, openApiSchema } from '../http/openapi';
import { ReceiveWebhook, type WebhookResult } from './receive-webhook.use-case';

const PARSERS: Readonly<Record<DeliveryChannel, (body: unknown) => ChannelStatusEvent[]>> = {
  whatsapp: parseWhatsAppWebhook,
  instagram: parseInstagramWebhook,
};

const webhookResultSchema = z.object({
  received: z.number().int(),
  enqueued: z.number().int(),
  ignored: z.number().int(),
  skipped: z.number().int(),
});

/**
 * Meta's webhooks for delivery statuses. No bearer token: a delivery is authenticated by its
 * `X-Hub-Signature-256` (HMAC of the raw body with the app secret), checked before anything else.
 */
@ApiTags('webhooks')
@Controller('v1/webhooks')
export class ChannelWebhooksController {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(ReceiveWebhook) private readonly receiveWebhook: ReceiveWebhook,
  ) {}

  @Get(':channel')
  @ApiOperation({ summary: 'Subscription handshake: echoes hub.challenge when hub.verify_token matches' })
  @ApiParam({ name: 'channel', enum: DELIVERY_CHANNELS })
  @ApiResponse({ status: 200, description: 'The challenge, as text/plain.' })
  @ApiResponse(errorResponse(403, 'Wrong verify token or mode (WEBHOOK_VERIFY_FAILED).'))
  handshake(
    @Param('channel') channelParam: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): string {
    const channel = channelOf(channelParam);
    const challenge = answerSubscriptionChallenge(query, this.secrets(channel).verifyToken);
    if (challenge === undefined) throw new ApiError(403, 'WEBHOOK_VERIFY_FAILED', 'verification failed');
    void reply.header('content-type', 'text/plain; charset=utf-8');
    return challenge;
  }

  @Post(':channel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Status webhook delivery (X-Hub-Signature-256 over the raw body)',
    description:
      'Each known status that can still change the delivery becomes a chat.message.status.1 event through the outbox; statuses the delivery is already at or past are skipped, unknown messages are ignored.',
  })
  @ApiParam({ name: 'channel', enum: DELIVERY_CHANNELS })
  @ApiResponse({
    status: 200,
    description: 'Accepted.',
    schema: openApiSchema(webhookResultSchema, 'output'),
  })
  @ApiResponse(errorResponse(400, 'Malformed payload (WEBHOOK_PAYLOAD_INVALID, INVALID_JSON).'))
  @ApiResponse(errorResponse(401, 'Missing or wrong signature (WEBHOOK_SIGNATURE_INVALID).'))
  async receive(
    @Param('channel') channelParam: string,
    @Req() request: FastifyRequest,
  ): Promise<WebhookResult> {
    const channel = channelOf(channelParam);
    const { appSecret } = this.secrets(channel);
    const rawBody = (request as FastifyRequest & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
    const signature = request.headers[WEBHOOK_SIGNATURE_HEADER];
    if (!verifyWebhookSignature(rawBody, typeof signature === 'string' ? signature : undefined, appSecret)) {
      throw new ApiError(401, 'WEBHOOK_SIGNATURE_INVALID', `missing or invalid ${WEBHOOK_SIGNATURE_HEADER}`);
    }
    if (request.body === UNPARSEABLE_BODY || request.body === undefined) {
      throw badRequest('INVALID_JSON', 'webhook body is not valid JSON');
    }
    let events: ChannelStatusEvent[];
    try {
      events = PARSERS[channel](request.body);
    } catch (error) {
      if (error instanceof WebhookPayloadError) {
        throw new ApiError(400, 'WEBHOOK_PAYLOAD_INVALID', error.message, { reason: error.code });
      }
      throw error;
    }
    return this.receiveWebhook.run(channel, events);
  }

  private secrets(channel: DeliveryChannel): { appSecret: string; verifyToken: string } {
    const [appSecret, verifyToken] =
      channel === 'whatsapp'
        ? [this.config.WHATSAPP_APP_SECRET, this.config.WHATSAPP_VERIFY_TOKEN]
        : [this.config.INSTAGRAM_APP_SECRET, this.config.INSTAGRAM_VERIFY_TOKEN];
    if (!appSecret || !verifyToken) {
      throw new ApiError(503, 'WEBHOOK_NOT_CONFIGURED', `${channel} webhooks are not configured on this api`);
    }
    return { appSecret, verifyToken };
  }
}

function channelOf(value: string): DeliveryChannel {
  if (!(DELIVERY_CHANNELS as readonly string[]).includes(value)) {
    throw new ApiError(404, 'NOT_FOUND', `no webhook for channel "${value}"`);
  }
  return value as DeliveryChannel;
}
