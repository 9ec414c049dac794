import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Histogram, Registry } from 'prom-client';

/** Durations of every HTTP request, refusals by guards included (an interceptor would not see those). */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly duration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  use(req: Request, res: Response, next: NextFunction) {
    const end = this.duration.startTimer();
    res.on('finish', () => end({ method: req.method, route: routeOf(req), status_code: String(res.statusCode) }));
    next();
  }
}

/**
 * The route pattern (/v1/jobs/:id), never the path itself, which would make a series per
 * job. The dashboard and the docs are served by routers of their own: one label each.
 */
function routeOf(req: Request): string {
  const path = req.originalUrl.split('?')[0];
  if (path.startsWith('/admin/')) return '/admin/*';
  if (path === '/docs' || path.startsWith('/docs/') || path.startsWith('/docs-')) return '/docs/*';
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  // Nest answers unknown paths from a catch-all route of its own.
  return typeof pattern === 'string' && pattern !== '/{*path}' ? pattern : 'unmatched';
}
