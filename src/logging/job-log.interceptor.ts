import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { tap } from 'rxjs';

/** Adds the job id to a request's log lines (including the final one): from the path, or the job just created. */
@Injectable()
export class JobLogInterceptor implements NestInterceptor {
  constructor(private readonly logger: PinoLogger) {}

  intercept(context: ExecutionContext, next: CallHandler) {
    const { id } = context.switchToHttp().getRequest<Request>().params;
    if (id) this.logger.assign({ jobId: id });
    return next.handle().pipe(
      tap((body: unknown) => {
        const created = !id && typeof body === 'object' && body !== null && 'id' in body ? body.id : undefined;
        if (typeof created === 'string') this.logger.assign({ jobId: created });
      }),
    );
  }
}
