import { HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { StoredSecret } from '../config/secret';
import { sha256Hex, verifySecret } from '../config/secret';
import { ApiError } from '../errors/api-error';

/**
 * HTTP Basic authentication for the dashboard. Errors are thrown so that Nest's exception
 * filter writes them like every other error. The UI polls every few seconds, and a scrypt
 * check costs tens of milliseconds, so credentials already accepted are remembered (by hash).
 */
export function basicAuth(credentials: { user: string; password: StoredSecret }) {
  const accepted = new Set<string>();
  const user: StoredSecret = { kind: 'sha256', digest: sha256Hex(credentials.user) };
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const fingerprint = sha256Hex(header);
    if (!accepted.has(fingerprint)) {
      const match = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
      const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      // Both checks always run, so a wrong user name takes as long as a wrong password.
      const userOk = await verifySecret(user, decoded.slice(0, Math.max(colon, 0)));
      const passwordOk = await verifySecret(credentials.password, decoded.slice(colon + 1));
      if (colon < 1 || !userOk || !passwordOk) {
        res.setHeader('WWW-Authenticate', 'Basic realm="OCR admin", charset="UTF-8"');
        throw new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'The dashboard needs the ADMIN_USER and ADMIN_PASSWORD credentials.');
      }
      accepted.add(fingerprint);
    }
    next();
  };
}

/** Stands in for the dashboard when no credentials are configured: it is never open by default. */
export function dashboardOff(): never {
  throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', 'The dashboard is off: set ADMIN_USER and ADMIN_PASSWORD to turn it on.');
}
