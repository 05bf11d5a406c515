import { type IncomingMessage } from 'node:http';
import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { ApiError } from '../http/api.errors';

/** The one route that takes a text body: a map job's document. */
export const MAP_ROUTE = '/v1/maps';
/** What a map document may be declared as. */
export const DOCUMENT_TYPES = ['text/plain', 'text/markdown'] as const;

export const documentTooLarge = (bytes: number | undefined, maxBytes: number) =>
  new ApiError(
    413,
    'DOCUMENT_TOO_LARGE',
    `the document is ${bytes === undefined ? 'larger than that' : `${bytes} bytes`}; a map document takes at most ${maxBytes} bytes (MAP_DOCUMENT_MAX_BYTES)`,
    { maxBytes, ...(bytes === undefined ? {} : { bytes }) },
  );

/**
 * Text bodies are read only for {@link MAP_ROUTE}, into a Buffer of at most `maxBytes`: a larger
 * Content-Length is refused before a byte is read, a chunked body as soon as it passes the limit
 * (413, connection closed: Fastify's rule for parser errors). Fastify's own `text/plain` parser
 * (a string, for any route) is replaced, so a text body sent to a JSON route gets 415 instead of
 * being judged as a JSON value.
 */
export function registerDocumentBodyParser(fastify: FastifyInstance, maxBytes: number): void {
  if (fastify.hasContentTypeParser('text/plain')) fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser(
    [...DOCUMENT_TYPES],
    async (request: FastifyRequest, payload: IncomingMessage): Promise<Buffer> => {
      if (request.routeOptions.url !== MAP_ROUTE) {
        throw new ApiError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `${DOCUMENT_TYPES.join(' and ')} are only accepted by POST ${MAP_ROUTE}; this route takes application/json`,
        );
      }
      const declared = request.headers['content-length'];
      if (declared !== undefined && Number(declared) > maxBytes) {
        throw documentTooLarge(Number(declared), maxBytes);
      }
      const parts: Buffer[] = [];
      let size = 0;
      for await (const chunk of payload) {
        const part = chunk as Buffer;
        size += part.length;
        if (size > maxBytes) throw documentTooLarge(undefined, maxBytes);
        parts.push(part);
      }
      return Buffer.concat(parts, size);
    },
  );
}
