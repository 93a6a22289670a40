/**
 * The embedded gateway's control socket, `DATA_DIR/control.sock` (mode 0600): how `dossier
 * backup` reaches the one process that may open the embedded database while it runs. Whoever can
 * open the socket can read DATA_DIR anyway, so the file's owner is the whole of its access control;
 * no token, and nothing of it on the network.
 *
 * Protocol: one JSON request line, then JSON lines back: `{"progress":…}` any number of times and
 * a last `{"ok":true,"result":…}` or `{"ok":false,"error":{"code","message"}}`.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';

export const CONTROL_SOCKET = 'control.sock';
/** A request line longer than this is not ours. */
const MAX_REQUEST = 64 * 1024;

export type ControlHandler = (request: Record<string, unknown>, progress: (p: unknown) => void) => Promise<unknown>;

export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

export async function listenControl(dataDir: string, ops: Record<string, ControlHandler>, log: Logger): Promise<ControlSocket | null> {
  const socketPath = path.join(dataDir, CONTROL_SOCKET);
  // Unix socket paths are short (108 bytes on Linux): a deep DATA_DIR goes without one.
  if (Buffer.byteLength(socketPath) > 100) {
    log.warn({ socketPath }, 'DATA_DIR is too deep for a control socket: `dossier backup` of the running gateway is unavailable');
    return null;
  }
  // A socket file left by a process that died: nothing answers it, so it is ours to replace.
  if (await answers(socketPath)) throw new Error(`another gateway is running on ${dataDir} (${socketPath} answers)`);
  await fs.rm(socketPath, { force: true });
  const server = net.createServer((socket) => serve(socket, ops, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  await fs.chmod(socketPath, 0o600);
  return {
    path: socketPath,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(socketPath, { force: true });
    },
  };
}

function serve(socket: net.Socket, ops: Record<string, ControlHandler>, log: Logger): void {
  let buffered = '';
  let started = false;
  const send = (line: unknown) => socket.writable && socket.write(`${JSON.stringify(line)}\n`);
  const finish = (line: unknown) => socket.end(`${JSON.stringify(line)}\n`);
  const refuse = (message: string) => finish({ ok: false, error: { code: 'bad_request', message } });
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  socket.on('data', (chunk: string) => {
    if (started) return;
    buffered += chunk;
    if (buffered.length > MAX_REQUEST) return void refuse('request too long');
    const newline = buffered.indexOf('\n');
    if (newline < 0) return;
    started = true;
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
    } catch {
      return void refuse('not a JSON line');
    }
    const name = String(request.op);
    if (!Object.hasOwn(ops, name)) return void refuse(`unknown op; ops: ${Object.keys(ops).join(', ')}`);
    log.info({ op: name }, 'control request');
    ops[name]!(request, (p) => send({ progress: p })).then(
      (result) => finish({ ok: true, result }),
      (err: unknown) => {
        const e = err as { code?: unknown; message?: unknown };
        log.warn({ op: name, err: String(e.message ?? err) }, 'control request failed');
        finish({ ok: false, error: { code: typeof e.code === 'string' ? e.code : 'internal', message: String(e.message ?? err) } });
      },
    );
  });
}

/** Whether a gateway answers on the socket (false for no file, or a file nobody listens on). */
export function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Sends one request and hands each progress line to `onProgress`; resolves with the result. */
export function controlRequest(socketPath: string, request: Record<string, unknown>, onProgress: (p: unknown) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let buffered = '';
    let done = false;
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${JSON.stringify(request)}\n`));
    s.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, nl)) as { progress?: unknown; ok?: boolean; result?: unknown; error?: { code: string; message: string } };
        buffered = buffered.slice(nl + 1);
        if (line.progress !== undefined) onProgress(line.progress);
        else {
          done = true;
          if (line.ok) resolve(line.result);
          else reject(Object.assign(new Error(line.error?.message ?? 'failed'), { code: line.error?.code }));
        }
      }
    });
    s.once('error', reject);
    s.once('close', () => done || reject(new Error('the gateway closed the control socket without an answer')));
  });
}
