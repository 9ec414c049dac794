import { HttpStatus, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig } from '../../config/config';
import { ApiError } from '../errors/api-error';
import { sha256Hex } from '../../config/secret';

/** The request property where ApiKeyGuard leaves the caller's key digest. */
export const OWNER = Symbol('owner');
export type OwnedRequest = Request & { [OWNER]?: string };

export const unauthorized = () =>
  new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Send a valid API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".');

/**
 * The configured API keys, by SHA-256 digest. A caller is known by the digest of its key:
 * jobs store that digest as their owner, never the key itself. Looking digests up in a set
 * is safe from timing attacks since what leaks is about the digest, not the key.
 */
@Injectable()
export class ApiKeys {
  constructor(private readonly config: AppConfig) {}

  get enabled() {
    return this.config.apiKeys.size > 0;
  }

  /** The digest of the valid key the request carries, or null. */
  identify(req: Request): string | null {
    const key = presentedKey(req);
    if (!key) return null;
    const digest = sha256Hex(key);
    return this.config.apiKeys.has(digest) ? digest : null;
  }
}

function presentedKey(req: Request): string | null {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (bearer) return bearer[1];
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header.trim() ? header.trim() : null;
}
