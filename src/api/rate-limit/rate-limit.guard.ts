import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerRequest } from '@nestjs/throttler';
import { ApiError } from '../errors/api-error';

/** @nestjs/throttler's guard, answering 429 `rate_limited` (with Retry-After, set by the guard). */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private redisDown = false;

  /**
   * Without Redis the limits cannot be counted; the request goes on (and meets the
   * queue's own 503) rather than failing here, and the outage is logged once.
   */
  protected async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      const allowed = await super.handleRequest(request);
      this.redisDown = false;
      return allowed;
    } catch (error) {
      if (error instanceof HttpException) throw error;
      if (!this.redisDown) this.logger.warn(`Rate limits are not enforced while Redis is unavailable: ${(error as Error).message}`);
      this.redisDown = true;
      return true;
    }
  }

  protected async throwThrottlingException(_context: unknown, detail: ThrottlerLimitDetail): Promise<void> {
    throw new ApiError(
      HttpStatus.TOO_MANY_REQUESTS,
      'rate_limited',
      `Too many requests: the limit is ${detail.limit} per ${detail.ttl / 1000} s. Retry after ${detail.timeToBlockExpire} s.`,
    );
  }
}
