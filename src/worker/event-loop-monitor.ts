import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Watches the worker's main event loop, which must stay free for BullMQ to renew job
 * locks (a blocked loop shows up as stalled jobs). Reports every ten minutes and at exit.
 */
@Injectable()
export class EventLoopMonitor implements OnApplicationShutdown {
  private readonly logger = new Logger(EventLoopMonitor.name);
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.histogram.enable();
    this.timer = setInterval(() => this.report(), 10 * 60 * 1000);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
    this.report();
    this.histogram.disable();
  }

  private report() {
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    const h = this.histogram;
    this.logger.log(`Event loop delay: p50 ${ms(h.percentile(50))} ms, p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms`);
    h.reset();
  }
}
