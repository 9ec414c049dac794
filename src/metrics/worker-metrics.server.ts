import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { Registry } from 'prom-client';
import { AppConfig } from '../config/config';

/**
 * The worker has no HTTP server of its own, so its metrics get a small one on
 * WORKER_METRICS_PORT, for Prometheus to scrape each worker.
 */
@Injectable()
export class WorkerMetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerMetricsServer.name);
  private server?: Server;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: Registry,
  ) {}

  async onApplicationBootstrap() {
    const port = this.config.workerMetricsPort;
    if (port === 0) return;
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    // A taken port stops the worker at start-up, like any other bad setting.
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new Error(`WORKER_METRICS_PORT ${port}: ${error.message}`)));
      server.listen(port, resolve);
    });
    this.server = server;
    this.logger.log(`Metrics on port ${port} at /metrics`);
  }

  async onApplicationShutdown() {
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }
}
