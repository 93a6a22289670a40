/** The gateway as a separate process (`dossier serve`): for tests that kill it and for the benchmark. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueToken } from '../../dossier/access/tokens.js';
import type { Role } from '../../dossier/model.js';
import { DEFAULT_AUDIENCE, LOCAL_ISSUER } from '../../runtime/config.js';
import { FileKeyRing } from '../../storage/keys/file-keyring.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The server ended before it answered /healthz (a bad configuration, or a kill during its start). */
export class ServerExitedError extends Error {
  override readonly name = 'ServerExitedError';
  constructor(readonly code: number | null, readonly signal: NodeJS.Signals | null, readonly output: string) {
    super(`server exited ${signal ?? code}: ${output}`);
  }
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Peak resident set size so far (VmHWM), in bytes; Linux only. */
  peakRss(): Promise<number | null>;
}

/**
 * Starts `dossier serve` and waits until /healthz answers: from source through tsx, or the
 * compiled build (what `npm start` runs) with `compiled`.
 */
export async function spawnServer(env: Record<string, string>, port?: number, options: { compiled?: boolean; startTimeoutMs?: number; nodeArgs?: readonly string[] } = {}): Promise<ServerProcess> {
  const p = port ?? (await freePort());
  const args = [...(options.nodeArgs ?? []), ...(options.compiled ? [path.join(root, 'dist/scripts/dossier.js'), 'serve'] : ['--import', 'tsx', path.join(root, 'scripts/dossier.ts'), 'serve'])];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(p), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${p}`;
  // A first start runs PGlite's initdb: seconds on a quiet machine, far longer on a busy one.
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new ServerExitedError(child.exitCode, child.signalCode, out);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => out,
    async peakRss() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : null;
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/** A token from the issuer key that a `dossier serve` with this DATA_DIR created. */
export async function tokenFor(dataDir: string, agency: string, role: Role): Promise<string> {
  const pair = (await FileKeyRing.open(path.join(dataDir, 'keys', 'issuer'), { create: false })).currentPair();
  return issueToken({ issuer: LOCAL_ISSUER, audience: DEFAULT_AUDIENCE, key: pair.privateKey, kid: pair.kid, subject: 'u', agency, roles: [role], ttlSeconds: 3600 });
}
