/**
 * The browser application's built files (web/, built by Vite into dist/web) and the security
 * headers of every response. Hashed assets are cached for a year; index.html is revalidated on
 * every load so a new build is picked up at once. The CSP allows no inline script or style.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Request, type Response } from 'express';
import helmet from 'helmet';

/** dist/web, found from this file whether it runs compiled (dist/server) or from source (server/). */
export function defaultWebDir(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // From source (server/) the build is ../dist/web; compiled (dist/server) it is ../web. The
  // sources in web/ have an index.html too, but no built assets/.
  const candidates = [path.resolve(here, '../dist/web'), path.resolve(here, '../web')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html')) && fs.existsSync(path.join(dir, 'assets'))) ?? null;
}

export function securityHeaders(): express.RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
}

/** Serves index.html at `/` and the hashed assets under /assets; returns the index sender for other routes (link landing). */
export function mountWebApp(app: Express, dir: string): (req: Request, res: Response) => void {
  const index = path.join(dir, 'index.html');
  const sendIndex = (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  };
  app.get(['/', '/index.html'], sendIndex);
  app.use(
    '/assets',
    express.static(path.join(dir, 'assets'), {
      index: false,
      fallthrough: true,
      immutable: true,
      maxAge: '365d',
    }),
  );
  return sendIndex;
}
