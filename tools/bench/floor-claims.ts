/**
 * The least an HTTP claim endpoint can do, for `bench:pool-claims`: node:http, no framework, no
 * auth, no validation beyond JSON.parse; each `POST /` runs the api's claim statement
 * (`pool_claim_quest`, prepared) on a pg pool of FLOOR_POOL_SIZE and answers 200 with the quest or
 * 404. What the real api does on top (JWT, validation, error bodies, metrics) only costs more.
 *
 *   PORT=… DATABASE_URL=… FLOOR_SCHEMA=… FLOOR_POOL_SIZE=10 node --require @swc-node/register tools/bench/floor-claims.ts
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.FLOOR_POOL_SIZE ?? 10),
  options: `-c search_path=${process.env.FLOOR_SCHEMA}`,
});
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as {
      characterId: string;
      minLevel: number;
      maxLevel: number;
    };
    pool
      .query({
        name: 'claim',
        text: 'SELECT * FROM pool_claim_quest($1, $2, $3, NULL, NULL)',
        values: [body.characterId, body.minLevel, body.maxLevel],
      })
      .then(
        ({ rows }) => {
          const row = rows[0] as { quest_id: string | null } | undefined;
          res.writeHead(row?.quest_id ? 200 : 404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify(
              row?.quest_id ? { item: { id: row.quest_id } } : { error: { code: 'POOL_EMPTY' } },
            ),
          );
        },
        (error: Error) => {
          res.writeHead(500);
          res.end(error.message);
        },
      );
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
