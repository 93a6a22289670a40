/** An in-process gateway on port 0 with its own data directory; tokens for any principal. */
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { issueToken } from '../../dossier/access/tokens.js';
import type { Role } from '../../dossier/model.js';
import { configFromEnv } from '../../runtime/config.js';
import { compose, type ComposeOptions, type Gateway } from '../../runtime/compose.js';
import { migrate } from '../../storage/db/migrate.js';
import { openPglite } from '../../storage/db/pglite-database.js';
import { wiringEnv } from './wiring.js';

export interface TestGateway {
  url: string;
  gateway: Gateway;
  dataDir: string;
  token(agency: string, role: Role | Role[], options?: { user?: string; ttlSeconds?: number }): Promise<string>;
  api(method: string, route: string, token: string | null, body?: unknown): Promise<{ status: number; json: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** JSON over HTTP as the suites call the API: the parsed body (or its text), status and headers. */
export function jsonApi(url: string): TestGateway['api'] {
  return async (method, route, token, body) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  };
}

let template: Promise<string> | null = null;

/**
 * A migrated, empty PGlite directory made once per test run: copying it (about a second) spares
 * every gateway PGlite's initdb (ten seconds on a busy machine). Production starts from nothing.
 */
export function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-pglite-template-'));
    const db = await openPglite(dir);
    await migrate(db);
    await db.close();
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  })();
  return template;
}

export async function startGateway(env: Record<string, string> = {}, options: ComposeOptions = {}): Promise<TestGateway> {
  const dataDir = env.DATA_DIR ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-gw-')));
  // A restart on the same DATA_DIR keeps its database.
  const fresh = await fs.access(path.join(dataDir, 'db')).then(() => false, () => true);
  // TEST_WIRING=postgres-s3: PostgreSQL and S3 for every gateway that names neither itself.
  const wired = env.DATABASE_URL || env.BLOB_STORE ? {} : await wiringEnv(dataDir);
  if (!env.DATABASE_URL && !wired.DATABASE_URL && fresh) await fs.cp(await pgliteTemplate(), path.join(dataDir, 'db'), { recursive: true });
  const config = configFromEnv({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...wired, ...env, DATA_DIR: dataDir });
  // Suites draw their fixtures with SVG in this process; the hostile suite runs with the block.
  const gateway = await compose(config, { allDecoders: true, ...options });
  const address = await gateway.start();
  const url = `${config.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  return {
    url,
    gateway,
    dataDir,
    async token(agency, role, o = {}) {
      const pair = gateway.issuerKeys.currentPair();
      return issueToken({
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        key: pair.privateKey,
        kid: pair.kid,
        subject: o.user ?? `${agency}-user`,
        agency,
        roles: Array.isArray(role) ? role : [role],
        ttlSeconds: o.ttlSeconds ?? 3600,
      });
    },
    api: jsonApi(url),
    async stop() {
      await gateway.stop();
      if (!env.DATA_DIR) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
