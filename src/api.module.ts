import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AdminModule } from './api/admin/admin.module';
import { ApiKeyGuard } from './api/auth/api-key.guard';
import { AuthModule } from './api/auth/auth.module';
import { ConfigModule } from './config/config.module';
import { HttpExceptionFilter } from './api/errors/http-exception.filter';
import { HealthModule } from './api/health/health.module';
import { JobsModule } from './api/jobs/jobs.module';
import { LanguagesModule } from './api/languages/languages.module';
import { LoggingModule } from './logging/logging.module';
import { ApiMetricsModule } from './api/metrics/metrics.module';
import { QueueModule } from './queue/queue.module';
import { RateLimitGuard } from './api/rate-limit/rate-limit.guard';
import { RateLimitModule } from './api/rate-limit/rate-limit.module';

/** The API process: HTTP in, jobs onto the queue, status out. It runs no processor. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    QueueModule.register('producer'),
    AuthModule,
    RateLimitModule,
    JobsModule,
    LanguagesModule,
    HealthModule,
    ApiMetricsModule,
    AdminModule,
  ],
  providers: [
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
    // In this order: a flood of bad keys is limited too, by address.
    { provide: APP_GUARD, useClass: RateLimitGuard },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
})
export class ApiModule {}
