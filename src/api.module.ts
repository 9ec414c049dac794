import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AdminModule } from './admin/admin.module';
import { ApiKeyGuard } from './auth/api-key.guard';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { HttpExceptionFilter } from './errors/http-exception.filter';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { LanguagesModule } from './languages/languages.module';
import { LoggingModule } from './logging/logging.module';
import { ApiMetricsModule } from './metrics/metrics.module';
import { QueueModule } from './queue/queue.module';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';

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
