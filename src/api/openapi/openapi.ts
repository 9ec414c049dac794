import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };

/** The OpenAPI document, generated from the controllers and DTOs (and checked in as openapi.json). */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('OCR service')
    .setDescription(
      'Upload PDFs, OCR their pages on scalable workers, poll the results. Every error is JSON ' +
        '`{ statusCode, error, code, message }` with a stable `code`. When the service runs with `API_KEYS`, ' +
        'every `/v1` call needs a key, as a bearer token or in `X-API-Key`, and sees only the jobs made with it.',
    )
    .setVersion(version)
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'This server')
    .addTag('jobs', 'OCR jobs: upload, poll, fetch the result, cancel.')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'An API key from `API_KEYS`.' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key from `API_KEYS`.' }, 'apiKey')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /docs and the document at /docs-json. */
export function serveOpenApi(app: INestApplication) {
  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', raw: ['json'], customSiteTitle: 'OCR service API' });
}
