import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { ApiModule } from './api.module';
import { AppConfig, ConfigError, loadConfig } from './config/config';

async function bootstrap() {
  // Fail before Nest starts anything, with a message that names the bad variable.
  loadConfig();
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, { bodyParser: true, bufferLogs: true });
  app.useLogger(app.get(PinoLogger));
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  const { port } = app.get(AppConfig);
  await app.listen(port);
  new Logger('Api').log(`API listening on port ${port}`);
}

bootstrap().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
