import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { QueueMetrics } from './queue.metrics';
import { registryProvider } from './registry.provider';

/** The API's /metrics: its own HTTP metrics and the queues' state for the whole deployment. */
@Module({
  controllers: [MetricsController],
  providers: [registryProvider, QueueMetrics],
})
export class ApiMetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }
}
