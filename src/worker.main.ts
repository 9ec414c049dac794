import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { ConfigError, loadConfig } from './config/config';
import { WorkerModule } from './worker.module';
import { SHUTDOWN_GRACE_MS } from './worker/shutdown';

async function bootstrap() {
  // Fail before Nest starts anything, with a message that names the bad variable.
  loadConfig();
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  app.useLogger(app.get(PinoLogger));
  const logger = new Logger('Worker');
  // On SIGTERM the BullMQ workers close, which waits for the pages in flight, then the
  // process exits 0: a stop asked for and carried out is a success, not a death by signal.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal}: finishing the pages in flight, then exiting`);
      // Closing waits on Redis; without it (Redis down) it would wait forever. Pages cut
      // off here are not lost: their locks expire and another worker takes them.
      setTimeout(() => {
        logger.error(`Shutdown took longer than ${SHUTDOWN_GRACE_MS} ms; exiting anyway`);
        process.exit(1);
      }, SHUTDOWN_GRACE_MS).unref();
      app.close().then(
        () => process.exit(0),
        (error: Error) => {
          logger.error(`Shutdown failed: ${error.message}`);
          process.exit(1);
        },
      );
    });
  }
  const allocator = memoryReturn();
  if (allocator) logger.log(`Freed memory goes back to the system: ${allocator}`);
  else
    logger.warn(
      'Memory freed after a hostile page may not go back to the system: start the worker with scripts/start-worker.sh (see README)',
    );
  logger.log('Worker started');
}

/**
 * How memory a page frees goes back to the system (scripts/start-worker.sh, Dockerfile.worker):
 * jemalloc preloaded, or glibc's mmap threshold; null when neither is set on Linux.
 */
function memoryReturn(): string | null {
  if (process.platform !== 'linux') return 'the platform allocator';
  let maps = '';
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    // No /proc: judged by the environment alone.
  }
  if (maps.includes('libjemalloc')) return `jemalloc (${process.env.MALLOC_CONF ?? 'default settings'})`;
  if (process.env.MALLOC_MMAP_THRESHOLD_) return `glibc, MALLOC_MMAP_THRESHOLD_=${process.env.MALLOC_MMAP_THRESHOLD_}`;
  return null;
}

bootstrap().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
