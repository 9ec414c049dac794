import { ArgumentsHost, Catch, Controller, ExceptionFilter, Get, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { Public } from '../auth/api-key.guard';
import { QueueHealthIndicator } from './queue.health';

/** Terminus reports a failed check as a 503 whose body is the report; it leaves as it is. */
@Catch(ServiceUnavailableException)
class HealthReportFilter implements ExceptionFilter {
  catch(exception: ServiceUnavailableException, host: ArgumentsHost) {
    host.switchToHttp().getResponse<Response>().status(503).json(exception.getResponse());
  }
}

/** For orchestrators, not clients: documented in the README rather than in the OpenAPI contract. */
@ApiExcludeController()
@Public()
@SkipThrottle()
@UseFilters(HealthReportFilter)
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly queue: QueueHealthIndicator,
  ) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Redis answers and the queues can be used. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.queue.redis(), () => this.queue.queues()]);
  }

  /** Kept from before /health/ready existed. */
  @Get()
  @HealthCheck()
  check() {
    return this.ready();
  }
}
