/**
 * A loopback TCP proxy in front of a server (PostgreSQL, the gateway), for outage tests: `cut()`
 * ends every connection and refuses new ones, as a network partition or a server restart does,
 * and `restore()` lets connections through again. The server itself keeps running.
 * `throttle(bytesPerSecond)` slows what clients send, as a slow uplink does; a client that goes
 * away then loses what the slow link had not carried yet (its connection to the server is
 * destroyed, not drained).
 */
import net from 'node:net';
import { Transform } from 'node:stream';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  cut(): void;
  restore(): void;
  /** Client-to-server bytes per second from now on; null: as fast as they come. */
  throttle(bytesPerSecond: number | null): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let refusing = false;
  let accepted = 0;
  let rate: number | null = null;
  /** Passes a client's bytes on at `rate`, a tenth of a second's worth at a time. */
  const slowLink = () =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        let at = 0;
        const next = () => {
          if (this.destroyed) return;
          if (!rate) return done(null, chunk.subarray(at));
          const part = chunk.subarray(at, at + Math.max(1024, Math.floor(rate / 10)));
          at += part.length;
          this.push(part);
          setTimeout(at >= chunk.length ? () => done() : next, (part.length / rate) * 1000);
        };
        next();
      },
    });
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const link = slowLink();
    client.on('close', () => (link.destroy(), upstream.destroy()));
    client.pipe(link).pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut() {
      refusing = true;
      for (const s of open) s.destroy();
    },
    restore() {
      refusing = false;
    },
    throttle(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    async close() {
      refusing = true;
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
