import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AdminModule } from './admin/admin.module';
import { ConfigModule } from './config/config.module';
import { HttpExceptionFilter } from './errors/http-exception.filter';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { LoggingModule } from './logging/logging.module';
import { ApiMetricsModule } from './metrics/metrics.module';
import { QueueModule } from './queue/queue.module';

/** The API process: HTTP in, jobs onto the queue, status out. It runs no processor. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    QueueModule.register('producer'),
    JobsModule,
    HealthModule,
    ApiMetricsModule,
    AdminModule,
  ],
  providers: [
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
  ],
})
export class ApiModule {}
