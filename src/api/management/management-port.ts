import type { NextFunction, Request, Response } from 'express';

/** What operators use and clients must not: health probes, metrics and the queue dashboard. */
const MANAGEMENT_PATH = /^\/(health|metrics|admin)(\/|$)/;

/**
 * With MANAGEMENT_PORT set the API listens twice, one Express app on both ports: this splits
 * the routes between them, so that publishing PORT exposes the API (and its /docs) only.
 */
export function splitByPort(managementPort: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    const onManagement = req.socket.localPort === managementPort;
    if (onManagement === MANAGEMENT_PATH.test(req.path)) return next();
    res.status(404).json({
      statusCode: 404,
      error: 'Not Found',
      code: 'not_found',
      message: onManagement ? 'This port serves /health, /metrics and /admin only.' : `Cannot ${req.method} ${req.path}`,
    });
  };
}
