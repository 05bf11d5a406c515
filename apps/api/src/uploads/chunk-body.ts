import { type IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { type FastifyInstance } from 'fastify';
import { ApiError } from '../http/api.errors';

/** The one route whose body is a raw stream (Fastify's route template). */
export const CHUNK_ROUTE = '/v1/uploads/:id/chunks/:n';
export const CHUNK_CONTENT_TYPE = 'application/octet-stream';

export const lengthRequired = () =>
  new ApiError(
    411,
    'LENGTH_REQUIRED',
    'a chunk needs a Content-Length header with its exact size (chunked transfer encoding is not accepted)',
  );

/**
 * The `application/octet-stream` "parser" parses nothing: it leaves the body unread in the request,
 * so the chunk handler streams it to the object store instead of Fastify buffering it (Fastify's
 * `bodyLimit` only applies to parsers that buffer). It refuses early, before authentication and
 * with the connection closed (Fastify's rule for parser errors), what no chunk can be: a body
 * without Content-Length, larger than the largest chunk the server plans, or sent to another route.
 */
export function registerChunkBodyParser(fastify: FastifyInstance, maxChunkBytes: number): void {
  fastify.addContentTypeParser(CHUNK_CONTENT_TYPE, (request, _payload, done) => {
    if (request.routeOptions.url !== CHUNK_ROUTE) {
      done(
        new ApiError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `${CHUNK_CONTENT_TYPE} is only accepted by PUT ${CHUNK_ROUTE}; this route takes application/json`,
        ),
        undefined,
      );
      return;
    }
    const length = request.headers['content-length'];
    if (length === undefined) {
      done(lengthRequired(), undefined);
      return;
    }
    if (Number(length) > maxChunkBytes) {
      done(
        new ApiError(
          413,
          'PAYLOAD_TOO_LARGE',
          `Content-Length ${length} is larger than any chunk (at most ${maxChunkBytes} bytes)`,
        ),
        undefined,
      );
      return;
    }
    done(null, undefined);
  });
}

/** The client closed the connection before the whole body arrived. */
export class RequestAborted extends Error {
  constructor(received: number) {
    super(`the client closed the request after ${received} bytes of its body`);
    this.name = 'RequestAborted';
  }
}

/** A request body on its way to the object store, tapped: bytes counted, first bytes kept. */
export interface ChunkBody {
  /** What the store reads. */
  readonly stream: Readable;
  /** Bytes read from the client so far. */
  received(): number;
  /** The first bytes (up to the `headBytes` asked for). */
  head(): Buffer;
  /** The client went away before the end of the body. */
  aborted(): boolean;
  /** Reads and drops what is left of the body, so an answer still goes out on a sound connection. */
  discardRest(): void;
}

/**
 * Wraps the raw request for streaming. `pipe` rather than `pipeline` from the request on purpose:
 * when the store fails, `pipeline` would destroy the request and with it the socket our error
 * answer must go out on. A client that goes away fails the stream with {@link RequestAborted}
 * (a piped stream would otherwise wait forever for the rest).
 */
export function chunkBody(raw: IncomingMessage, headBytes: number): ChunkBody {
  let received = 0;
  let aborted = false;
  const headParts: Buffer[] = [];
  let headLength = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (headLength < headBytes) {
        // A copy: a view would keep the whole network buffer alive for the request's lifetime.
        const part = Buffer.from(chunk.subarray(0, headBytes - headLength));
        headParts.push(part);
        headLength += part.length;
      }
      done(null, chunk);
    },
  });
  // The store attaches to the stream only after presigning: until then (and after it let go) an
  // abort's error must have a listener, or it would be an uncaught exception. The store still
  // sees it: a stream destroyed with an error fails every later pipeline.
  tap.on('error', () => undefined);
  const onGone = () => {
    // After 'end' the body was delivered whole; a later close is the connection's normal end.
    if (raw.readableEnded || aborted) return;
    aborted = true;
    tap.destroy(new RequestAborted(received));
  };
  raw.once('close', onGone);
  // Node emits 'error' ("aborted", ECONNRESET) on a request whose client vanished mid-body.
  raw.on('error', onGone);
  raw.pipe(tap);
  // Gone while the handler was still looking the upload up: no 'close' is coming any more.
  if (raw.destroyed) onGone();
  return {
    stream: tap,
    received: () => received,
    head: () => Buffer.concat(headParts, headLength),
    aborted: () => aborted,
    discardRest: () => {
      raw.unpipe(tap);
      if (!raw.destroyed) raw.resume();
    },
  };
}
