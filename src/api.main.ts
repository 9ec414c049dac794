import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { Logger as PinoLogger } from 'nestjs-pino';
import { ApiModule } from './api.module';
import { ConfigError, loadConfig } from './config/config';
import { splitByPort } from './api/management/management-port';
import { serveOpenApi } from './api/openapi/openapi';
import { serveWebPage } from './api/web/web-page';
import { bodyIdleTimeout, TimedExpressAdapter, timedServer } from './api/timeouts/request-timeouts';

async function bootstrap() {
  // Fail before Nest starts anything, with a message that names the bad variable.
  const config = loadConfig();
  // No generic body parsers: the API takes only multipart uploads, which multer reads within
  // MAX_UPLOAD_BYTES, so no other request body is ever read into memory.
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, new TimedExpressAdapter(config.requestTimeouts), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(PinoLogger));
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // TLS is usually ended by a proxy in front; upgrading requests would break plain-HTTP setups.
  app.use(bodyIdleTimeout(config.requestTimeouts.bodyIdleMs));
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  const { port, host, managementPort, managementHost } = config;
  if (managementPort) app.use(splitByPort(managementPort));
  serveOpenApi(app);
  serveWebPage(app);
  app.enableShutdownHooks();
  await app.listen(port, host);
  const logger = new Logger('Api');
  logger.log(`API listening on ${host} port ${port}`);
  if (managementPort) {
    // The same app on a second port; Nest closes only the first, so this one is closed with the process.
    const management = timedServer(app.getHttpAdapter().getInstance(), config.requestTimeouts);
    await new Promise<void>((resolve, reject) => management.once('error', reject).listen(managementPort, managementHost, resolve));
    management.unref();
    logger.log(`Health, metrics and dashboard on ${managementHost} port ${managementPort}`);
  }
}

bootstrap().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
