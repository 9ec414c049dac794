import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { Logger as PinoLogger } from 'nestjs-pino';
import { ApiModule } from './api.module';
import { AppConfig, ConfigError, loadConfig } from './config/config';
import { serveOpenApi } from './openapi/openapi';
import { serveWebPage } from './web/web-page';

async function bootstrap() {
  // Fail before Nest starts anything, with a message that names the bad variable.
  const config = loadConfig();
  // No generic body parsers: the API takes only multipart uploads, which multer reads within
  // MAX_UPLOAD_BYTES, so no other request body is ever read into memory.
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(PinoLogger));
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // TLS is usually ended by a proxy in front; upgrading requests would break plain-HTTP setups.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  serveOpenApi(app);
  serveWebPage(app);
  app.enableShutdownHooks();
  const { port } = app.get(AppConfig);
  await app.listen(port);
  new Logger('Api').log(`API listening on port ${port}`);
}

bootstrap().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
