import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { ConfigError, loadConfig } from './config/config';
import { WorkerModule } from './worker.module';

async function bootstrap() {
  // Fail before Nest starts anything, with a message that names the bad variable.
  loadConfig();
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  app.useLogger(app.get(PinoLogger));
  // On SIGTERM Nest closes the BullMQ workers, which wait for in-flight pages.
  app.enableShutdownHooks();
  new Logger('Worker').log('Worker started');
}

bootstrap().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
