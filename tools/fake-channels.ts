/**
 * Runs the fake WhatsApp Cloud API / Instagram Messaging API server of `@fleet/channels/testing`
 * as its own process, for local runs and end-to-end tests of the api and the message-router:
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node --require @swc-node/register tools/fake-channels.ts
 *
 * Prints one JSON line per channel call and per finished webhook; controls under /_fake/ (see
 * libs/channels/README.md). Stops cleanly on SIGTERM / SIGINT.
 */
import { envDurationMs, envPort, envUrl, loadConfigOrExit } from '@fleet/config';
import { FAKE_CHANNEL_DEFAULTS, FakeChannelServer } from '@fleet/channels/testing';
import { z } from 'zod';

const booleanEnv = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

// Credentials default to well-known fake values: this process only ever impersonates Meta locally.
const config = loadConfigOrExit(
  z.object({
    FAKE_CHANNELS_PORT: envPort().default(9480),
    FAKE_CHANNELS_HOST: z.string().default('127.0.0.1'),
    FAKE_WHATSAPP_TOKEN: z.string().default(FAKE_CHANNEL_DEFAULTS.whatsAppToken),
    FAKE_INSTAGRAM_TOKEN: z.string().default(FAKE_CHANNEL_DEFAULTS.instagramToken),
    FAKE_WHATSAPP_PHONE_NUMBER_ID: z
      .string()
      .regex(/^\d+$/, 'expected digits')
      .default(FAKE_CHANNEL_DEFAULTS.phoneNumberId),
    FAKE_APP_SECRET: z.string().default(FAKE_CHANNEL_DEFAULTS.appSecret),
    FAKE_WHATSAPP_WEBHOOK_URL: envUrl({ protocols: ['http', 'https'] }).optional(),
    FAKE_INSTAGRAM_WEBHOOK_URL: envUrl({ protocols: ['http', 'https'] }).optional(),
    FAKE_CALLBACK_SENT_DELAY_MS: envDurationMs().default(50),
    FAKE_CALLBACK_DELIVERED_DELAY_MS: envDurationMs().default(100),
    FAKE_CALLBACK_READ_DELAY_MS: envDurationMs().default(150),
    FAKE_SEND_READ_RECEIPTS: booleanEnv.default(true),
    // Meta batches webhook updates (up to 1,000 a POST); receivers must take any batch.
    FAKE_CALLBACK_BATCH_WINDOW_MS: envDurationMs().default(10),
  }),
  process.env,
);

const log = (fields: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ timestamp: new Date().toISOString(), ...fields })}\n`);

async function main(): Promise<void> {
  const server = new FakeChannelServer({
    port: config.FAKE_CHANNELS_PORT,
    host: config.FAKE_CHANNELS_HOST,
    tokens: { whatsapp: config.FAKE_WHATSAPP_TOKEN, instagram: config.FAKE_INSTAGRAM_TOKEN },
    phoneNumberId: config.FAKE_WHATSAPP_PHONE_NUMBER_ID,
    appSecret: config.FAKE_APP_SECRET,
    webhookUrls: {
      whatsapp: config.FAKE_WHATSAPP_WEBHOOK_URL,
      instagram: config.FAKE_INSTAGRAM_WEBHOOK_URL,
    },
    callbackDelaysMs: {
      sent: config.FAKE_CALLBACK_SENT_DELAY_MS,
      delivered: config.FAKE_CALLBACK_DELIVERED_DELAY_MS,
      read: config.FAKE_CALLBACK_READ_DELAY_MS,
    },
    sendReadReceipts: config.FAKE_SEND_READ_RECEIPTS,
    callbackBatchWindowMs: config.FAKE_CALLBACK_BATCH_WINDOW_MS,
    onCall: (call) => {
      // The body is left out and long texts cut, so a line stays a line; /_fake/calls has it all.
      const { body: _body, text, ...summary } = call;
      const shown = text !== undefined && text.length > 120 ? `${text.slice(0, 120)}…` : text;
      log({ message: 'channel call', ...summary, text: shown, textChars: text?.length });
    },
    onCallback: (delivery) => log({ message: 'status webhook', ...delivery }),
  });
  await server.start();
  log({
    message: 'fake channels listening',
    url: server.url,
    whatsappWebhookUrl: config.FAKE_WHATSAPP_WEBHOOK_URL ?? null,
    instagramWebhookUrl: config.FAKE_INSTAGRAM_WEBHOOK_URL ?? null,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log({ message: 'stopping', signal });
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log({ message: 'stop failed', error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  log({
    message: 'fake channels failed to start',
    error: error instanceof Error ? error.message : String(error),
  });
  process.exit(1);
});
