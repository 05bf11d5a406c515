/**
 * The least a chat api can do per message, for `bench:chat-ceiling`: node:http, no framework, no
 * auth, no validation beyond JSON.parse; each `POST /<conversation>` is one transaction (one
 * statement) that writes the message row and its outbox row, then 202. What the real api does on
 * top (JWT, validation, the idempotency check, ordering, deliveries) only costs more.
 *
 *   PORT=… DATABASE_URL=… FLOOR_SCHEMA=… node --require @swc-node/register tools/bench/floor-api.ts
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Pool } from 'pg';

export const FLOOR_DDL = (s: string) => `
  CREATE TABLE ${s}.floor_messages (
    id uuid PRIMARY KEY, conversation_id text NOT NULL, idempotency_key text NOT NULL,
    text text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, idempotency_key));
  CREATE TABLE ${s}.floor_outbox (
    seq bigserial, id uuid PRIMARY KEY, aggregate_key text NOT NULL, payload jsonb NOT NULL,
    published_at timestamptz);
  CREATE INDEX ON ${s}.floor_outbox (seq) WHERE published_at IS NULL;`;

if (require.main === module) {
  const schema = process.env.FLOOR_SCHEMA!;
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 16 });
  const insert = {
    name: 'floor-insert',
    text: `WITH m AS (
             INSERT INTO ${schema}.floor_messages (id, conversation_id, idempotency_key, text)
             VALUES ($1, $2, $3, $4) RETURNING id)
           INSERT INTO ${schema}.floor_outbox (id, aggregate_key, payload) SELECT id, $2, $5 FROM m`,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { text } = JSON.parse(Buffer.concat(chunks).toString()) as { text: string };
      const id = randomUUID();
      const conversation = req.url!.slice(1);
      pool
        .query({
          ...insert,
          values: [id, conversation, req.headers['idempotency-key'], text, JSON.stringify({ id, text })],
        })
        .then(
          () => {
            res.writeHead(202, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ id, status: 'PENDING' }));
          },
          (error: Error) => {
            res.writeHead(500);
            res.end(error.message);
          },
        );
    });
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
}
