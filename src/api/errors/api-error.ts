import { HttpException, HttpStatus } from '@nestjs/common';

/** An error with a stable code that clients can branch on. */
export class ApiError extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    message: string,
    /** Seconds; sent as Retry-After. */
    readonly retryAfter?: number,
  ) {
    super({ code, message }, status);
  }
}

export const jobNotFound = (id: string) => new ApiError(HttpStatus.NOT_FOUND, 'job_not_found', `No job with id "${id}".`);
export const queueUnavailable = () =>
  new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'queue_unavailable', 'The job queue is unavailable; try again shortly.');
