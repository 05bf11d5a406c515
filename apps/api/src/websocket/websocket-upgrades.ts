import { Global, Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import { type Duplex } from 'node:stream';
import { type Logger } from '@fleet/observability';
import { SERVICE_LOGGER } from '@fleet/service-kit';
import { AuthError } from '../auth/auth.errors';
import { type JwtVerifier } from '../auth/jwt-verifier';
import { ApiError } from '../http/api.errors';

/** Handles one upgrade request whose path matched; `match` is the path's RegExp match. */
export type UpgradeHandler = (
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
  match: RegExpExecArray,
) => Promise<void>;

/**
 * The one `upgrade` listener of the HTTP server, dispatching by path to the gateway that owns it
 * (conversation events, job events). Node hands every upgrade to every listener, so each gateway
 * listening on its own would answer the others' paths with a 404 on the same socket; here an
 * unknown path gets exactly one 404.
 */
@Injectable()
export class WebSocketUpgrades implements OnApplicationBootstrap {
  private readonly routes: Array<{ path: RegExp; handle: UpgradeHandler }> = [];

  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  /** Registers a path (matched against the URL's pathname); call it in `onModuleInit`. */
  route(path: RegExp, handle: UpgradeHandler): void {
    this.routes.push({ path, handle });
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(request.url ?? '/', 'http://api.invalid');
      // As Fastify's router does for plain requests (FST_ERR_BAD_URL): a path that does not
      // percent-decode is the client's mistake, not a gateway's failure to decode its parameter.
      if (!decodes(url.pathname)) {
        rejectUpgrade(
          socket,
          new ApiError(400, 'BAD_REQUEST', `'${url.pathname}' is not a valid url component`),
        );
        return;
      }
      for (const { path, handle } of this.routes) {
        const match = path.exec(url.pathname);
        if (!match) continue;
        handle(request, socket, head, url, match).catch((error: unknown) => {
          this.logger.error({ err: error, path: url.pathname }, 'websocket upgrade failed');
          rejectUpgrade(socket, new ApiError(500, 'INTERNAL', 'internal error'));
        });
        return;
      }
      rejectUpgrade(socket, new ApiError(404, 'NOT_FOUND', `no WebSocket route ${url.pathname}`));
    });
  }
}

function decodes(pathname: string): boolean {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

/** Provides {@link WebSocketUpgrades} to every gateway. */
@Global()
@Module({ providers: [WebSocketUpgrades], exports: [WebSocketUpgrades] })
export class WebSocketModule {}

/**
 * The caller of an upgrade request: the token from `Authorization: Bearer …` or, for browsers
 * (which cannot set headers on a WebSocket), `?access_token=…`.
 * @throws {@link ApiError} 401 with the reason and a `WWW-Authenticate` challenge.
 */
export async function authenticateUpgrade(
  verifier: JwtVerifier,
  request: IncomingMessage,
  url: URL,
): Promise<string> {
  try {
    const token = url.searchParams.get('access_token');
    const principal =
      token !== null && request.headers.authorization === undefined
        ? await verifier.verifyToken(token)
        : await verifier.verifyAuthorization(request.headers.authorization);
    return principal.userId;
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    throw new ApiError(
      401,
      'UNAUTHENTICATED',
      error.message,
      { reason: error.code },
      { 'www-authenticate': error.challenge },
    );
  }
}

/** Answers a refused upgrade with a plain HTTP response in the api's error format. */
export function rejectUpgrade(socket: Duplex, error: ApiError): void {
  if (!socket.writable) return;
  const body = JSON.stringify(error.toBody());
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...error.headers,
  };
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}`)
        .join('\r\n') +
      `\r\n\r\n${body}`,
  );
}
