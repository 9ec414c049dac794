import { Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule, type Params } from 'nestjs-pino';
import { stdTimeFunctions } from 'pino';
import type { Options } from 'pino-http';
import PinoPretty from 'pino-pretty';
import { AppConfig } from '../config/config';
import { jobContext } from './job-context';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
// Probes and scrapes arrive every few seconds and would drown the log.
const QUIET_PATHS = /^\/(health|metrics)(\/|$|\?)/;

type Req = IncomingMessage & { originalUrl?: string };

/** Options shared by both processes: JSON lines in production, one readable line per event otherwise. */
export function loggerParams(config: AppConfig): Params {
  const options: Options = {
    level: config.logLevel,
    timestamp: stdTimeFunctions.isoTime,
    base: undefined,
    mixin: () => ({ ...jobContext.getStore() }),
    // The caller's X-Request-Id when it looks like one (so a proxy's id carries through), else a new one.
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'requestId' },
    // Lines logged while handling a request carry its id, not the whole request.
    quietReqLogger: true,
    autoLogging: { ignore: (req: Req) => QUIET_PATHS.test(req.originalUrl ?? req.url ?? '') },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: (req: Req, res, ms) => `${req.method} ${req.originalUrl ?? req.url} ${res.statusCode} ${Math.round(ms)} ms`,
    customErrorMessage: (req: Req, res) => `${req.method} ${req.originalUrl ?? req.url} ${res.statusCode} failed`,
    // Never the headers: they hold API keys and admin credentials.
    serializers: {
      req: (req: { method: string; url: string; remoteAddress?: string }) => ({
        method: req.method,
        url: req.url,
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
  if (config.logFormat === 'json') return { pinoHttp: options, assignResponse: true };
  const pretty = PinoPretty({
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'context,req,res,responseTime',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
  return { pinoHttp: [options, pretty], assignResponse: true };
}

/** nestjs-pino behind Nest's Logger API, so `new Logger(Class.name)` keeps working everywhere. */
@Module({
  imports: [LoggerModule.forRootAsync({ inject: [AppConfig], useFactory: loggerParams })],
})
export class LoggingModule {}
