import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { ApiKeys, OWNER, type OwnedRequest, unauthorized } from './api-keys';

const PUBLIC = 'auth:public';
/** Marks a controller or route that needs no API key (health, metrics). */
export const Public = () => SetMetadata(PUBLIC, true);

/** With API_KEYS set, every route not marked @Public() needs one of them. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeys,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.keys.enabled || this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<OwnedRequest>();
    const owner = this.keys.identify(req);
    if (!owner) {
      context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="ocr"');
      throw unauthorized();
    }
    req[OWNER] = owner;
    return true;
  }
}
