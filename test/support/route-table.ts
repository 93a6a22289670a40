/** The routes an express app really serves, read from its router stack (express 5, router 2). */
import type { Express } from 'express';

export interface RouteEntry {
  readonly method: string;
  /** The express path, e.g. /api/dossiers/:id/pages/:n. */
  readonly path: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | string[];
  slash?: boolean;
}

export function routeTable(app: Express): RouteEntry[] {
  const out: RouteEntry[] = [];
  const walk = (stack: readonly Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = ([] as string[]).concat(layer.route.path);
        // app.all() lists every method node knows (CONNECT, M-SEARCH, …): one ALL entry.
        const methods = Object.keys(layer.route.methods);
        const all = methods.includes('_all') || methods.includes('connect');
        for (const method of all ? ['ALL'] : methods.map((m) => m.toUpperCase())) {
          for (const p of paths) out.push({ method, path: prefix + p });
        }
      } else if (layer.handle?.stack) {
        const mount = layer.slash || typeof layer.rawPath !== 'string' ? '' : layer.rawPath;
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}
