import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import serveStatic from 'serve-static';

/** Where `npm run build` puts the page built from web/ (scripts/build-web.js). */
export const WEB_ROOT = join(__dirname, '..', '..', 'public');

/**
 * The page talks only to this origin: its script, styles and API calls come from here, page
 * images are fetched and drawn on a canvas (no img-src needed), and nothing may be inlined.
 */
export const WEB_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

// The API's own paths: a file lookup (a stat) for each poll of a job would cost more than the poll's Redis reads.
const NOT_THE_PAGE = /^\/(v1|admin|health|metrics|docs)\b/;

/**
 * The web page at `/`: static files served by Express ahead of Nest's router, so neither the
 * API key guard nor the rate limit nor the OpenAPI document sees them. The page itself calls
 * the public /v1 API like any other client, with the key the user gives it.
 */
export function serveWebPage(app: NestExpressApplication) {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    new Logger('WebPage').warn(`No web page at ${WEB_ROOT}: run "npm run build" to make it.`);
    return;
  }
  const files = serveStatic(WEB_ROOT, {
    index: 'index.html',
    redirect: false,
    setHeaders: (res) => {
      // Names are not hashed: revalidate each time (ETag, Last-Modified) so a release shows at once.
      res.setHeader('Content-Security-Policy', WEB_CSP);
      res.setHeader('Cache-Control', 'no-cache');
    },
  });
  app.use((req: Request, res: Response, next: () => void) => (NOT_THE_PAGE.test(req.path) ? next() : files(req, res, next)));
}
