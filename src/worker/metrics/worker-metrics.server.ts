import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { Registry } from 'prom-client';
import { AppConfig } from '../../config/config';

/**
 * The worker has no HTTP server of its own, so its metrics get a small one on
 * WORKER_METRICS_PORT, for Prometheus to scrape each worker.
 */
const PORTS_TO_TRY = 10;

const listen = (server: Server, port: number, host: string) =>
  new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const onError = (error: NodeJS.ErrnoException) => resolve(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(null);
    });
  });

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
    // Several workers may run on one host (`npm run start:worker` twice): a taken port must
    // not stop a worker, so it takes the next free one and says which.
    for (let candidate = port; candidate < Math.min(port + PORTS_TO_TRY, 65536); candidate++) {
      const error = await listen(server, candidate, this.config.workerMetricsHost);
      if (!error) {
        this.server = server;
        const note = candidate === port ? '' : ` (WORKER_METRICS_PORT ${port} was taken)`;
        this.logger.log(`Metrics on port ${candidate} at /metrics on ${this.config.workerMetricsHost}${note}`);
        return;
      }
      if (error.code !== 'EADDRINUSE') {
        this.logger.warn(`Metrics are not served: port ${candidate}: ${error.message}`);
        return;
      }
    }
    this.logger.warn(`Metrics are not served: ports ${port} to ${port + PORTS_TO_TRY - 1} are all taken (set WORKER_METRICS_PORT)`);
  }

  async onApplicationShutdown() {
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }
}
