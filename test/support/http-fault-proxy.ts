/**
 * A loopback HTTP proxy in front of a server, for fault tests: it can answer a request itself
 * (a 503 SlowDown, as a throttled S3 does), cut the connection (a server gone), or alter a
 * request body on its way (a flipped bit).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultRule {
  /** True: the connection is cut at once, as a server that went away does. */
  drop?(req: http.IncomingMessage, n: number): boolean;
  /** An answer of the proxy's own instead of forwarding; undefined forwards. */
  answer?(req: http.IncomingMessage, n: number): { status: number; body: string } | undefined;
  /** Rewrites the body of a forwarded request (whole, in memory: test sizes only). */
  body?(req: http.IncomingMessage, bytes: Buffer): Buffer;
}

export interface FaultProxy {
  readonly url: string;
  /** Requests seen, forwarded or answered. */
  readonly count: number;
  rule: FaultRule;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target);
  let count = 0;
  const proxy: { rule: FaultRule } = { rule: {} };
  const server = http.createServer((req, res) => {
    const n = ++count;
    if (proxy.rule.drop?.(req, n)) {
      req.socket.destroy();
      return;
    }
    const own = proxy.rule.answer?.(req, n);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (own) {
        res.writeHead(own.status, { 'content-type': 'application/xml' }).end(own.body);
        return;
      }
      let body: Buffer = Buffer.concat(chunks);
      if (proxy.rule.body) body = proxy.rule.body(req, body);
      const upstream = http.request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(body.length) } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return count;
    },
    get rule() {
      return proxy.rule;
    },
    set rule(r: FaultRule) {
      proxy.rule = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const SLOW_DOWN = { status: 503, body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>' };
