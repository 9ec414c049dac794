import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { OWNER, type OwnedRequest } from './api-keys';

/**
 * The digest of the caller's API key, which owns the jobs it creates; null while API_KEYS
 * is unset, when every job is visible to every caller.
 */
export const Owner = createParamDecorator((_: unknown, context: ExecutionContext): string | null => {
  return context.switchToHttp().getRequest<OwnedRequest>()[OWNER] ?? null;
});
