/** A child logger per request carrying a request id; one line per finished request. */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      log?: Logger;
      id?: string;
    }
  }
}

export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    req.log = log.child({ req: req.id });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // PATCH chunks of an upload are many and uninteresting one by one.
      const level = res.statusCode >= 500 ? 'error' : req.method === 'PATCH' || req.method === 'HEAD' ? 'debug' : 'info';
      req.log?.[level]({ method: req.method, url: loggedUrl(req.originalUrl), status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
    next();
  };
}

/** The path without its query, and without a download link's token: the token is a credential. */
function loggedUrl(url: string): string {
  return url.split('?')[0]!.replace(/^\/d\/[^/]+/, '/d/[token]');
}
