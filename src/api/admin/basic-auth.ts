import { HttpStatus, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { StoredSecret } from '../../config/secret';
import { sha256Hex, verifySecret } from '../../config/secret';
import { ApiError } from '../errors/api-error';

export interface BasicAuthOptions {
  /** Failed logins an address may make per window before it is refused outright. */
  maxFailures?: number;
  windowMs?: number;
  now?: () => number;
}

const BASIC = /^Basic ([A-Za-z0-9+/]+=*)$/i;

/**
 * HTTP Basic authentication for the dashboard. Errors are thrown so that Nest's exception
 * filter writes them like every other error. The UI polls every few seconds, and a scrypt
 * check costs tens of milliseconds in libuv's thread pool (which uploads share), so:
 * credentials already accepted are remembered (by hash), a request without well-formed
 * credentials is refused before any hashing, and an address that keeps failing is refused
 * for the rest of the window without hashing either.
 */
export function basicAuth(credentials: { user: string; password: StoredSecret }, options: BasicAuthOptions = {}) {
  const { maxFailures = 10, windowMs = 15 * 60_000, now = Date.now } = options;
  const logger = new Logger('AdminAuth');
  const accepted = new Set<string>();
  const failures = new Map<string, { count: number; resetAt: number }>();
  const user: StoredSecret = { kind: 'sha256', digest: sha256Hex(credentials.user) };

  const refuse = (res: Response, why: string): never => {
    res.setHeader('WWW-Authenticate', 'Basic realm="OCR admin", charset="UTF-8"');
    throw new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', `The dashboard needs the ADMIN_USER and ADMIN_PASSWORD credentials${why}.`);
  };

  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const fingerprint = sha256Hex(header);
    if (accepted.has(fingerprint)) return next();

    const match = BASIC.exec(header.trim());
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    // No credentials (a browser's first request) or unusable ones: nothing to hash, nothing to count.
    if (colon < 1) refuse(res, '');

    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const record = failures.get(address);
    const time = now();
    if (record && record.resetAt > time && record.count >= maxFailures) {
      res.setHeader('Retry-After', String(Math.ceil((record.resetAt - time) / 1000)));
      throw new ApiError(HttpStatus.TOO_MANY_REQUESTS, 'rate_limited', 'Too many failed logins from this address; try again later.');
    }
    // Both checks always run, so a wrong user name takes as long as a wrong password.
    const userOk = await verifySecret(user, decoded.slice(0, colon));
    const passwordOk = await verifySecret(credentials.password, decoded.slice(colon + 1));
    if (!userOk || !passwordOk) {
      const current = record && record.resetAt > time ? record : { count: 0, resetAt: time + windowMs };
      current.count += 1;
      failures.set(address, current);
      if (failures.size > 10_000) for (const [key, r] of failures) if (r.resetAt <= time) failures.delete(key);
      logger.warn(`Failed dashboard login from ${address} (${current.count} in this window)`);
      refuse(res, '');
    }
    failures.delete(address);
    accepted.add(fingerprint);
    next();
  };
}

/** Stands in for the dashboard when no credentials are configured: it is never open by default. */
export function dashboardOff(): never {
  throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', 'The dashboard is off: set ADMIN_USER and ADMIN_PASSWORD to turn it on.');
}
