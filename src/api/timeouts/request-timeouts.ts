import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createServer, type RequestListener, type Server } from 'node:http';

export interface RequestTimeouts {
  headersMs: number;
  bodyIdleMs: number;
  requestMs: number;
}

/**
 * An HTTP server that ends a request whose headers take over `headersMs` or that is not
 * received whole within `requestMs` (Node answers 408 and closes). Node checks every 30 s
 * by default, which would let a stalled request live that much longer: here every second.
 */
export function timedServer(handler: RequestListener, timeouts: RequestTimeouts): Server {
  return createServer(
    { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: 1000 },
    handler,
  );
}

/**
 * Connections the kernel holds until the API accepts them. Node's default, 511, overflows when
 * a couple of thousand pollers connect within a second, and the kernel then retries each
 * dropped SYN after 1, 3, 7 s: the slowest polls of the bench. Linux caps it at net.core.somaxconn.
 */
export const LISTEN_BACKLOG = 4096;

/** Nest's Express adapter on a timedServer, so that Nest still listens on it and closes it. */
export class TimedExpressAdapter extends ExpressAdapter {
  constructor(private readonly timeouts: RequestTimeouts) {
    super();
  }

  override listen(port: string | number, ...args: unknown[]) {
    const callback = typeof args.at(-1) === 'function' ? (args.pop() as () => void) : undefined;
    const [host] = args as [string | undefined];
    return this.getHttpServer().listen({ port: Number(port), host, backlog: LISTEN_BACKLOG }, callback);
  }

  override initHttpServer(options: NestApplicationOptions) {
    if (options.httpsOptions || options.forceCloseConnections) throw new Error('TimedExpressAdapter serves plain HTTP only');
    this.setHttpServer(timedServer(this.getInstance(), this.timeouts));
  }
}

const hasBody = (req: Request) => Number(req.headers['content-length']) > 0 || req.headers['transfer-encoding'] !== undefined;

/**
 * Ends a request whose body stops arriving for `ms`: 408 request_timeout if nothing was
 * answered yet, and the socket closed either way, so that multer and the raw upload drop
 * the file they were writing. Only while the body comes in: a long poll or an event
 * stream has no body, and is answered for as long as it needs.
 */
export function bodyIdleTimeout(ms: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!hasBody(req) || req.complete) return next();
    // The request as well as the socket: once answered it is no longer Node's to abort, and
    // what reads it (multer, the raw upload) would wait for the rest of it forever.
    const close = () => {
      req.destroy();
      req.socket.destroy();
    };
    const onIdle = () => {
      if (res.headersSent) return close();
      res.once('finish', close);
      res
        .status(408)
        .set('Connection', 'close')
        .json({
          statusCode: 408,
          error: 'Request Timeout',
          code: 'request_timeout',
          message: `No part of the request body came for ${ms / 1000} s (BODY_IDLE_TIMEOUT_MS).`,
        });
    };
    req.setTimeout(ms, onIdle);
    req.once('end', () => {
      req.off('timeout', onIdle);
      // Once the response has finished, Node has set the socket's keep-alive timeout in place of this one.
      if (!res.writableFinished) req.socket.setTimeout(0);
    });
    next();
  };
}
