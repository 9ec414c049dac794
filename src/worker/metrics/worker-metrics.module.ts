import { Module } from '@nestjs/common';
import { registryProvider } from './registry.provider';
import { WorkerMetricsServer } from './worker-metrics.server';
import { WorkerMetrics } from './worker.metrics';

/** A worker's own metrics (pages, timings, engine restarts), served on WORKER_METRICS_PORT. */
@Module({
  providers: [registryProvider, WorkerMetrics, WorkerMetricsServer],
  exports: [WorkerMetrics],
})
export class WorkerMetricsModule {}
