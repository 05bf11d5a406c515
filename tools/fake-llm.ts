/**
 * Runs the fake OpenAI-compatible LLM server of `@fleet/llm/testing` as its own process, for local
 * runs, end-to-end tests and benchmarks of the generation worker — never a real model:
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node --require @swc-node/register tools/fake-llm.ts
 *
 * It simulates one GPU (one request at a time, FAKE_LLM_TOKENS_PER_SECOND, a first-call model
 * load). Prints one JSON line per chat call; controls under /_fake/ (see libs/llm/README.md).
 * Stops cleanly on SIGTERM / SIGINT.
 */
import { envDurationMs, envInt, envList, envPort, loadConfigOrExit } from '@fleet/config';
import { FakeLlmServer } from '@fleet/llm/testing';
import { z } from 'zod';

const config = loadConfigOrExit(
  z.object({
    FAKE_LLM_PORT: envPort().default(9481),
    FAKE_LLM_HOST: z.string().default('127.0.0.1'),
    FAKE_LLM_MODELS: envList().default(['fake-7b-instruct']),
    FAKE_LLM_TOKENS_PER_SECOND: envInt({ min: 1, max: 100_000 }).default(40),
    FAKE_LLM_PROMPT_TOKENS_PER_SECOND: envInt({ min: 0, max: 1_000_000 }).default(0),
    FAKE_LLM_MODEL_LOAD_DELAY_MS: envDurationMs().default(0),
    FAKE_LLM_COMPLETION_TOKENS: envInt({ min: 1, max: 1_000_000 }).optional(),
    // A fake's key protects nothing; it lets a local run exercise the client's key handling.
    FAKE_LLM_API_KEY: z.string().optional(),
  }),
  process.env,
);

const log = (fields: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ timestamp: new Date().toISOString(), ...fields })}\n`);

async function main(): Promise<void> {
  const server = new FakeLlmServer({
    port: config.FAKE_LLM_PORT,
    host: config.FAKE_LLM_HOST,
    models: config.FAKE_LLM_MODELS,
    tokensPerSecond: config.FAKE_LLM_TOKENS_PER_SECOND,
    promptTokensPerSecond: config.FAKE_LLM_PROMPT_TOKENS_PER_SECOND,
    modelLoadDelayMs: config.FAKE_LLM_MODEL_LOAD_DELAY_MS,
    completionTokens: config.FAKE_LLM_COMPLETION_TOKENS,
    apiKey: config.FAKE_LLM_API_KEY,
    onCall: (call) => {
      // Messages and content are left out so a line stays a line; /_fake/calls has them.
      const { messages: _messages, content, ...summary } = call;
      log({
        message: 'chat call',
        ...summary,
        contentChars: content?.length,
        queuedMs: call.startedAt !== undefined ? Math.round(call.startedAt - call.receivedAt) : undefined,
        servedMs: call.finishedAt !== undefined ? Math.round(call.finishedAt - call.receivedAt) : undefined,
      });
    },
  });
  await server.start();
  log({
    message: 'fake llm listening',
    url: server.url,
    models: config.FAKE_LLM_MODELS,
    tokensPerSecond: config.FAKE_LLM_TOKENS_PER_SECOND,
    modelLoadDelayMs: config.FAKE_LLM_MODEL_LOAD_DELAY_MS,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log({ message: 'stopping', signal, busyMs: Math.round(server.busy.totalMs), calls: server.calls.length });
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
  log({ message: 'fake llm failed to start', error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
