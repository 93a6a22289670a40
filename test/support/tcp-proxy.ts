/**
 * A loopback TCP proxy in front of a server, for outage and network fault tests. `cut()` ends
 * every connection and refuses new ones, as a network partition or a server restart does, and
 * `restore()` lets connections through again; the server itself keeps running. `failNext(fault)`
 * ends the open connections (so that a client's next request cannot ride a pooled one) and
 * spoils the next connection only, counting the bytes of one direction (`up`: client to server):
 * after N bytes it stalls (forwards nothing more and stops reading, the connection left open and
 * silent, as a client whose network went away), closes (FIN both ways), or resets (RST).
 * `throttle(bytesPerSecond)` slows what clients send, as a slow uplink does; a client that goes
 * away then loses what the slow link had not carried yet (its connection to the server is
 * destroyed, not drained).
 */
import net from 'node:net';
import { Transform, type Writable } from 'node:stream';

export type TcpFault = { readonly kind: 'stall' | 'close' | 'reset'; readonly afterBytes: number; readonly direction: 'up' | 'down' };

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Faults that have struck so far. */
  readonly struck: number;
  cut(): void;
  restore(): void;
  failNext(fault: TcpFault): void;
  /** Client-to-server bytes per second from now on; null: as fast as they come. */
  throttle(bytesPerSecond: number | null): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let refusing = false;
  let accepted = 0;
  let struck = 0;
  let next: TcpFault | null = null;
  let rate: number | null = null;
  /** Passes a client's bytes on at `rate`, a tenth of a second's worth at a time. */
  const slowLink = () =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        let at = 0;
        const step = () => {
          if (this.destroyed) return;
          if (!rate) return done(null, chunk.subarray(at));
          const part = chunk.subarray(at, at + Math.max(1024, Math.floor(rate / 10)));
          at += part.length;
          this.push(part);
          setTimeout(at >= chunk.length ? () => done() : step, (part.length / rate) * 1000);
        };
        step();
      },
    });
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    accepted++;
    const fault = next;
    next = null;
    const upstream = net.connect(targetPort, targetHost);
    const link = slowLink();
    link.pipe(upstream);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => {
        open.delete(s);
        // One side gone: the other follows (a stalled connection ends when the server cuts it).
        link.destroy();
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let counted = 0;
    let stalled = false;
    const forward = (from: net.Socket, to: Writable, direction: 'up' | 'down') => {
      from.on('data', (chunk: Buffer) => {
        if (stalled) return;
        let data = chunk;
        if (fault && fault.direction === direction) {
          const room = fault.afterBytes - counted;
          counted += chunk.length;
          if (room < chunk.length) {
            data = chunk.subarray(0, Math.max(room, 0));
            struck++;
            strike(fault, data, to);
            return;
          }
        }
        if (!to.write(data)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
    };
    const strike = (f: TcpFault, last: Buffer, to: Writable) => {
      if (last.length > 0) to.write(last);
      if (f.kind === 'stall') {
        stalled = true;
        client.pause();
        upstream.pause();
      } else if (f.kind === 'close') {
        // Let what was written reach the other side, then FIN both ways.
        to.end(() => {
          client.end();
          upstream.end();
        });
      } else {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
    };
    forward(client, link, 'up');
    forward(upstream, client, 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    get struck() {
      return struck;
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
    failNext(fault) {
      for (const s of open) s.destroy();
      next = fault;
    },
    async close() {
      refusing = true;
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
