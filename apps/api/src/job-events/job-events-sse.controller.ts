import { Controller, Get, Headers, Inject, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { once } from 'node:events';
import { sqlOf, type DataSource } from '@fleet/db';
import { JobStore } from '@fleet/jobs';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { DATA_SOURCE } from '../app.tokens';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { ApiError } from '../http/api.errors';
import { errorResponse } from '../http/openapi';
import { ownJob, parseJobId } from '../jobs/jobs.repository';
import { JobEventStreams, type JobEventSink, type JobStreamFrame } from '../jobs/job-event-streams';
import { parseLastSeq } from './job-event-params';

/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;
/** Bytes queued on the response beyond which the client is dropped (it reconnects with Last-Event-ID). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** One SSE message: events carry their seq as `id`, so the browser's `Last-Event-ID` resumes after it. */
function sseMessage(frame: JobStreamFrame): string {
  const id = 'seq' in frame ? `id: ${frame.seq}\n` : '';
  return `${id}event: ${frame.type}\ndata: ${JSON.stringify(frame)}\n\n`;
}

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('v1/jobs')
@UseGuards(AuthGuard)
export class JobEventsSseController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
    @Inject(JobEventStreams) private readonly streams: JobEventStreams,
  ) {}

  @Get(':id/events')
  @ApiOperation({
    summary: "A job's progress events (Server-Sent Events; the same path upgrades to a WebSocket)",
    description:
      'With `Accept: text/event-stream`: the stored events after `Last-Event-ID` (or `?lastSeq`, default 0), ' +
      'then `event: subscribed`, then live events; each event has `id: <seq>` and `event: <type>` (job_started, ' +
      'progress_update, job_completed, job_failed), its data the event JSON. `event: gap` reports events no longer ' +
      "stored. The stream ends after the job's final event. With an `Upgrade: websocket` request the same " +
      'path is a WebSocket with the same frames as JSON text (token also as `?access_token=`); ' +
      '`/v1/jobs/events?since=<jobId>:<seq>,…` streams every job of the caller (WebSocket only).',
  })
  @ApiProduces('text/event-stream')
  @ApiParam({ name: 'id', format: 'uuid', description: 'Job id.' })
  @ApiQuery({
    name: 'lastSeq',
    required: false,
    description: 'Last seq received (ignored when Last-Event-ID is sent).',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Last seq received (set by EventSource on reconnect).',
  })
  @ApiResponse({ status: 200, description: 'The event stream.' })
  @ApiResponse(
    errorResponse(400, 'INVALID_ID, VALIDATION_FAILED (lastSeq / Last-Event-ID not a non-negative integer).'),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(errorResponse(404, "No such job (or another user's)."))
  @ApiResponse(errorResponse(406, 'Accept does not allow text/event-stream.'))
  async stream(
    @CurrentUser() user: Principal,
    @Param('id') id: string,
    @Query('lastSeq') lastSeqParam: string | undefined,
    @Headers('accept') accept: string | undefined,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const jobId = parseJobId(id);
    if (!accept?.includes('text/event-stream')) {
      throw new ApiError(
        406,
        'NOT_ACCEPTABLE',
        'this route streams text/event-stream (send Accept: text/event-stream) or upgrades to a WebSocket',
      );
    }
    const lastSeq =
      lastEventId !== undefined
        ? parseLastSeq(lastEventId.trim(), 'Last-Event-ID')
        : parseLastSeq(typeof lastSeqParam === 'string' ? lastSeqParam : undefined);
    const job = await ownJob(this.jobs, sqlOf(this.dataSource.manager), jobId, user.userId);

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies (nginx) must not buffer a stream.
      'x-accel-buffering': 'no',
    });
    raw.write(': stream open\n\n');
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(keepalive);
      raw.end();
    };
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    const sink: JobEventSink = {
      transport: 'sse',
      send: async (frame) => {
        if (ended || raw.destroyed) throw new Error('response closed');
        if (raw.writableLength > MAX_BUFFERED_BYTES) throw new Error('client too slow');
        if (!raw.write(sseMessage(frame))) await Promise.race([once(raw, 'drain'), once(raw, 'close')]);
      },
      end,
    };
    let gone = false;
    const opened = this.streams.openJob(job, lastSeq, sink);
    request.raw.once('close', () => {
      gone = true;
      clearInterval(keepalive);
      void opened.then((stream) => stream.close()).catch(() => undefined);
    });
    try {
      await opened;
    } catch {
      // Redis unreachable: the client's EventSource reconnects with its Last-Event-ID.
      end();
    }
    if (gone) end();
  }
}
