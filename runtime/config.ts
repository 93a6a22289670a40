/**
 * The one module that reads the environment. Everything else receives a frozen Config.
 * A bad value stops the process with a message naming the variable (see loadConfig).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseDuration } from '../dossier/duration.js';
import { parseFailpoints, type FailpointRule } from '../dossier/failpoints.js';
import { chooseEngine, type EngineName } from '../ocr/choose-engine.js';
import { tessdataFolder, type ModelSource } from '../ocr/model-source.js';
import { NATIVE_TESSERACT } from '../ocr/native-tesseract-engine.js';
import type { S3Settings } from '../storage/blobs/s3-client.js';
import { DEFAULT_SUITE, SIGNATURE_SUITES, type SignatureSuite } from '../dossier/signing/suite.js';

const GIB = 1024 ** 3;

// libuv's pool (4 threads by default) serves fs reads, writes, fsyncs, zlib and async crypto for
// every thread of the process. Page blobs are fsynced eight at a time; with four threads those
// fsyncs starve the page reader's reads. Set before the pool first starts, hence at import time;
// an operator's own UV_THREADPOOL_SIZE wins.
process.env.UV_THREADPOOL_SIZE ??= '16';

// The one duration syntax, shared with the link API (dossier/duration.ts).
export { parseDuration };

const duration = z.string().transform((s, ctx) => {
  const v = parseDuration(s);
  if (v === null || v <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration like 90s, 15m, 8h or 7d' });
    return z.NEVER;
  }
  return v;
});

const byteCount = z.string().transform((s, ctx) => {
  const m = /^(\d+)\s*(B|KiB|MiB|GiB|TiB)?$/i.exec(s.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'expected a byte count like 1073741824 or 50GiB' });
    return z.NEVER;
  }
  const unit = (m[2] ?? 'B').toLowerCase();
  const mult = { b: 1, kib: 1024, mib: 1024 ** 2, gib: GIB, tib: 1024 ** 4 }[unit] ?? 1;
  return Number(m[1]) * mult;
});

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  // A connection silent this long is closed (a stalled or vanished client); a request's headers must
  // arrive within HTTP_HEADERS_TIMEOUT (slowloris). No whole-request deadline: uploads are long.
  HTTP_IDLE_TIMEOUT: duration.default(120),
  HTTP_HEADERS_TIMEOUT: duration.default(60),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
    .optional(),
  BLOB_STORE: z.enum(['fs', 's3']).default('fs'),
  // The S3 blob store (BLOB_STORE=s3): AWS S3, MinIO, Ceph RGW.
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name').optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: z.stringbool().default(false),
  /** Attempts per S3 request (the SDK's standard retries: backoff with jitter on throttling and 5xx). */
  S3_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** The endpoint presigned URLs name, when clients reach the store at another address than we do. */
  S3_PUBLIC_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** Object Lock for sealed evidence: compliance-mode retention in days, and/or a legal hold. */
  S3_OBJECT_LOCK_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  S3_LEGAL_HOLD: z.stringbool().default(false),
  /** Downloads from S3 at least this large are redirected to a presigned URL; 0 never redirects. */
  S3_REDIRECT_MIN_BYTES: byteCount.default(16 * 1024 ** 2),
  /** Lifetime of those presigned URLs; at most 5 minutes. */
  S3_REDIRECT_TTL: duration.default(300).refine((v) => v <= 300, 'at most 5m'),
  /** Which suite signs and hashes new evidence; evidence sealed under another stays verifiable. */
  SIGNATURE_SUITE: z.enum(SIGNATURE_SUITES).default(DEFAULT_SUITE),
  WORKERS: z.enum(['in-process', 'none']).default('in-process'),
  /**
   * Dossiers ingested at once per process. A small dossier's ingest mostly waits (fsyncs, SQL
   * round trips, the page-reader thread): 4 at once migrated 120 small cases 3.6× faster than 1
   * on a loaded machine (BENCHMARKS.md, issue 18 fourth part); a large one uses both cores alone.
   */
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  MAX_UPLOAD_BYTES: byteCount.default(50 * GIB),
  LINK_MAX_TTL: duration.default(7 * 86400),
  /** Where links point: the gateway as the outside world reaches it (else the request's host). */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  UPLOAD_EXPIRY: duration.default(7 * 86400),
  /** ZIP and single-image uploads read, hashed, stored and signed while their bytes arrive. */
  UPLOAD_STREAM_INGEST: z.stringbool().default(true),
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1).optional(),
  /** Claims of bearer tokens (the local issuer's, or AUTH_ISSUER's access tokens) naming agency and roles. */
  AUTH_CLAIM_AGENCY: z.string().min(1).default('agency'),
  AUTH_CLAIM_ROLES: z.string().min(1).default('roles'),
  /** Browser sign-in with the agency's OpenID provider (authorization code + PKCE), found by discovery. */
  OIDC_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_SCOPES: z.string().min(1).default('openid profile'),
  /** Where the provider sends the browser back; default: PUBLIC_URL (else the request's origin) + /api/session/oidc/callback. */
  OIDC_REDIRECT_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The provider's claims that name the user, their agency and their roles (dotted: inside an object claim). */
  OIDC_CLAIM_USER: z.string().min(1).default('sub'),
  OIDC_CLAIM_AGENCY: z.string().min(1).default('agency'),
  OIDC_CLAIM_ROLES: z.string().min(1).default('roles'),
  /** What the sign-in screen's button says (e.g. the agency's name). */
  OIDC_LABEL: z.string().min(1).max(100).optional(),
  /**
   * OCR languages joined by `+` (e.g. chi_sim+eng); each needs its model in the tessdata folder
   * (OCR_TESSDATA_DIR, or Debian's) or its @tesseract.js-data package (checked with the engine).
   */
  OCR_LANGS: z
    .string()
    .default('eng')
    .transform((s) => s.split('+').map((l) => l.trim()))
    .pipe(z.array(z.string().regex(/^[a-z_]+$/, 'a tesseract language name like eng or chi_sim'))),
  OCR_WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  /** auto: the native CLI where it and its models are installed, else tesseract.js (ocr/choose-engine.ts). */
  OCR_ENGINE: z.enum(['auto', 'tesseract.js', 'tesseract']).default('auto'),
  /** A folder of plain `<lang>.traineddata` files; default Debian's where installed. */
  OCR_TESSDATA_DIR: z.string().min(1).optional(),
  /** Pages a tesseract.js slot reads before it is replaced (its wasm heap never shrinks). */
  OCR_PAGES_PER_SLOT: z.coerce.number().int().min(1).max(1_000_000).default(200),
  OCR_PAGE_TIMEOUT: duration.default(120),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Fault injection for the crash-point suite only (dossier/failpoints.ts): never set in service.
  FAILPOINTS: z.string().optional(),
  /** A signed audit checkpoint every this many events… */
  AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).max(10_000_000).default(1000),
  /** …and after this long when events arrived since the last one. */
  AUDIT_CHECKPOINT_INTERVAL: duration.default(600),
  /** A JSON list of agencies [{ id, name, kind }] registered (or updated) at start. */
  AGENCIES_FILE: z.string().min(1).optional(),
  /** Browser sessions: ended after this long unused, and this long after sign-in whatever happens. */
  SESSION_IDLE: duration.default(30 * 60),
  SESSION_MAX_AGE: duration.default(12 * 3600),
  /** How often the scheduled check marks transfers overdue. */
  SUPERVISION_CHECK_INTERVAL: duration.default(60),
  /** Hosts (names or addresses) in private, loopback or link-local ranges that webhooks may call. */
  WEBHOOK_ALLOW_HOSTS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((h) => h.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')).filter((h) => h.length > 0)),
  /** First retry delay of a failing webhook; doubles with every failure up to WEBHOOK_RETRY_MAX. */
  WEBHOOK_RETRY_BASE: duration.default(10),
  WEBHOOK_RETRY_MAX: duration.default(3600),
  /** A subscription failing without a success for this long is disabled. */
  WEBHOOK_DISABLE_AFTER: duration.default(3 * 86400),
  WEBHOOK_TIMEOUT: duration.default(10),
  /** Besides loopback, who may read /metrics: addresses or CIDR ranges, comma-separated. */
  METRICS_ALLOW: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((h) => h.trim()).filter((h) => h.length > 0))
    .refine((list) => list.every(isAddressOrRange), 'expected addresses or CIDR ranges, e.g. 10.0.0.0/8,192.0.2.7'),
  /** A bearer token that may read /metrics from anywhere (at least 16 characters). */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** On SIGTERM, how long running jobs may take to finish before they go back to the queue. */
  WORKER_STOP_GRACE: duration.default(30),
  // Protection in transit (README "Protection in transit and at rest").
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  /** Client certificates signed by these CAs are asked for (mutual TLS); TLS_CLIENT_MAP_FILE maps their subjects. */
  TLS_CLIENT_CA_FILE: z.string().min(1).optional(),
  TLS_CLIENT_MAP_FILE: z.string().min(1).optional(),
  /** With TLS on: a plain-HTTP port that only redirects to HTTPS (else plain HTTP is refused). */
  TLS_HTTP_REDIRECT_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Behind a reverse proxy that ends TLS: express's trust proxy setting (true, a hop count, or addresses). */
  TRUST_PROXY: z.string().min(1).optional(),
  /** PostgreSQL over TLS: disable, verify-ca or verify-full (a mode that skips verification is refused). */
  PGSSLMODE: z.string().min(1).optional(),
  PGSSLROOTCERT: z.string().min(1).optional(),
  /** The S3 endpoint's CA (PEM), beside the system's roots. */
  S3_CA_FILE: z.string().min(1).optional(),
  S3_SSE: z.enum(['AES256', 'aws:kms']).optional(),
  S3_SSE_KMS_KEY_ID: z.string().min(1).optional(),
  // Protection at rest.
  MASTER_KEY_FILE: z.string().min(1).optional(),
  /** Master keys of before a rotation, comma-separated: they unwrap, never wrap. */
  MASTER_KEY_OLD_FILE: z.string().min(1).optional(),
  /** The cipher of new blobs when MASTER_KEY_FILE is set (sm4: the national suite's SM4-CTR + HMAC-SM3). */
  ENCRYPTION_AT_REST: z.enum(['aes-256-gcm', 'sm4-ctr-hmac-sm3', 'sm4', 'off']).default('aes-256-gcm'),
});

function isAddressOrRange(text: string): boolean {
  try {
    if (text.includes('/')) ipaddr.parseCIDR(text);
    else ipaddr.parse(text);
    return true;
  } catch {
    return false;
  }
}

export interface Config {
  readonly http: {
    readonly port: number;
    readonly host: string;
    /** A connection without a byte in either direction this long is closed. */
    readonly idleTimeoutMs: number;
    /** A request's headers must be complete this long after its first byte. */
    readonly headersTimeoutMs: number;
  };
  readonly dataDir: string;
  readonly database: { readonly kind: 'pglite'; readonly dir: string } | { readonly kind: 'postgres'; readonly url: string; readonly tls: PostgresTls | null };
  readonly blobs: {
    readonly kind: 'fs' | 's3';
    /** The filesystem store's directory (BLOB_STORE=fs). */
    readonly dir: string;
    readonly s3: S3Settings | null;
    /** Large S3 downloads go to a presigned URL: from this size (0: never), valid this long. */
    readonly redirect: { readonly minBytes: number; readonly ttlSeconds: number };
  };
  readonly uploads: { readonly dir: string; readonly maxBytes: number; readonly expirySeconds: number; readonly streamIngest: boolean };
  readonly keysDir: string;
  readonly workers: {
    readonly mode: 'in-process' | 'none';
    readonly ingestConcurrency: number;
    /** On SIGTERM, running jobs get this long to finish before they are handed back. */
    readonly stopGraceMs: number;
  };
  /** Who may read /metrics besides loopback (see server/metrics.ts). */
  readonly metrics: { readonly allow: readonly string[]; readonly token: string | null };
  readonly signatureSuite: SignatureSuite;
  readonly links: { readonly maxTtlSeconds: number; readonly publicUrl: string | null };
  readonly auth: {
    /** The gateway's own issuer (tokens from `dossier token issue`) unless jwksUrl is set. */
    readonly issuer: string;
    readonly audience: string;
    readonly jwksUrl: string | null;
    /** Claim names of agency and roles in bearer tokens. */
    readonly claims: { readonly agency: string; readonly roles: string };
  };
  /** Browser single sign-on; null: local accounts only. */
  readonly oidc: OidcSettings | null;
  readonly ocr: {
    readonly langs: readonly string[];
    readonly workers: number;
    /** The engine in use: OCR_ENGINE, with auto decided at load. */
    readonly engine: EngineName;
    readonly models: ModelSource;
    readonly pagesPerSlot: number;
    readonly pageTimeoutMs: number;
    /**
     * The whole environment of a tesseract.js slot process: none of the gateway's (no database
     * URL, no key passwords). Two malloc arenas: a slot's threads need no more, and each arena
     * a thread opened would otherwise stay resident until the process ends.
     */
    readonly processEnv: Readonly<Record<string, string>>;
  };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly audit: { readonly checkpointEvery: number; readonly checkpointIntervalMs: number };
  /** AGENCIES_FILE, resolved; null when agencies are registered through the API only. */
  readonly agenciesFile: string | null;
  readonly supervision: { readonly checkIntervalMs: number };
  readonly webhooks: {
    readonly allowHosts: readonly string[];
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly disableAfterMs: number;
    readonly timeoutMs: number;
  };
  readonly cores: number;
  /** Browser sessions of local accounts (SESSION_IDLE, SESSION_MAX_AGE), in seconds. */
  readonly sessions: { readonly idleSeconds: number; readonly absoluteSeconds: number };
  /** HTTPS built in; null: plain HTTP (or TLS ended by a proxy, see trustProxy). */
  readonly tls: TlsSettings | null;
  /** express's `trust proxy` (TRUST_PROXY); false: X-Forwarded-* headers are ignored. */
  readonly trustProxy: boolean | number | string;
  /** Envelope encryption of blobs at rest; null: blobs are stored in the clear. */
  readonly atRest: AtRestSettings | null;
  /** Faults injected at named steps (FAILPOINTS, tests only); empty in service. */
  readonly failpoints: readonly FailpointRule[];
}

export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string | null;
  readonly clientMapFile: string | null;
  readonly redirectPort: number | null;
}

export interface PostgresTls {
  readonly mode: 'verify-ca' | 'verify-full';
  readonly rootCertFile: string | null;
}

export interface AtRestSettings {
  readonly masterKeyFile: string;
  readonly oldMasterKeyFiles: readonly string[];
  /** The cipher of new blobs; null (ENCRYPTION_AT_REST=off): new blobs in the clear, sealed ones still read. */
  readonly cipher: 'aes-256-gcm' | 'sm4-ctr-hmac-sm3' | null;
}

export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: string;
  readonly redirectUrl: string | null;
  readonly claims: { readonly user: string; readonly agency: string; readonly roles: string };
  /** Null: the sign-in screen says “the agency’s identity provider” in the user's language. */
  readonly label: string | null;
}

export const LOCAL_ISSUER = 'urn:dossier-gateway:local';
export const DEFAULT_AUDIENCE = 'dossier-gateway';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Builds a Config from an environment-like record; throws ConfigError naming each bad variable. */
export function configFromEnv(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.AUTH_JWKS_URL && !(e.AUTH_ISSUER && e.AUTH_AUDIENCE)) {
    throw new ConfigError('invalid configuration:\n  AUTH_JWKS_URL: needs AUTH_ISSUER and AUTH_AUDIENCE too');
  }
  if ((e.OIDC_ISSUER || e.OIDC_CLIENT_ID || e.OIDC_CLIENT_SECRET) && !(e.OIDC_ISSUER && e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET)) {
    throw new ConfigError('invalid configuration:\n  OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET: set all three or none');
  }
  if (e.BLOB_STORE === 's3' && !e.S3_BUCKET) throw new ConfigError('invalid configuration:\n  S3_BUCKET: needed with BLOB_STORE=s3');
  if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError('invalid configuration:\n  S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither (neither: the SDK finds credentials itself)');
  }
  if (e.OCR_TESSDATA_DIR && !fs.existsSync(e.OCR_TESSDATA_DIR)) throw new ConfigError(`invalid configuration:\n  OCR_TESSDATA_DIR: no folder ${e.OCR_TESSDATA_DIR}`);
  const ocr = chooseEngine({ setting: e.OCR_ENGINE, languages: e.OCR_LANGS, folder: tessdataFolder(e.OCR_TESSDATA_DIR ?? null), binary: NATIVE_TESSERACT });
  if (typeof ocr === 'string') throw new ConfigError(`invalid configuration:\n  OCR_LANGS, OCR_ENGINE: ${ocr}`);
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) throw new ConfigError('invalid configuration:\n  TLS_CERT_FILE, TLS_KEY_FILE: set both or neither');
  if ((e.TLS_CLIENT_CA_FILE || e.TLS_HTTP_REDIRECT_PORT !== undefined) && !e.TLS_CERT_FILE) {
    throw new ConfigError('invalid configuration:\n  TLS_CLIENT_CA_FILE, TLS_HTTP_REDIRECT_PORT: need TLS_CERT_FILE and TLS_KEY_FILE');
  }
  if (e.TLS_CLIENT_CA_FILE && !e.TLS_CLIENT_MAP_FILE) throw new ConfigError('invalid configuration:\n  TLS_CLIENT_MAP_FILE: needed with TLS_CLIENT_CA_FILE (which subject is which agency and role)');
  if (e.MASTER_KEY_OLD_FILE && !e.MASTER_KEY_FILE) throw new ConfigError('invalid configuration:\n  MASTER_KEY_OLD_FILE: needs MASTER_KEY_FILE (the key to wrap with)');
  if (e.S3_SSE_KMS_KEY_ID && e.S3_SSE !== 'aws:kms') throw new ConfigError('invalid configuration:\n  S3_SSE_KMS_KEY_ID: needs S3_SSE=aws:kms');
  const failpoints = parseFailpoints(e.FAILPOINTS ?? '');
  if (typeof failpoints === 'string') throw new ConfigError(`invalid configuration:\n  FAILPOINTS: ${failpoints}`);
  const database = e.DATABASE_URL ? postgresSettings(e.DATABASE_URL, e.PGSSLMODE, e.PGSSLROOTCERT) : null;
  const dataDir = path.resolve(e.DATA_DIR);
  return deepFreeze<Config>({
    http: { port: e.PORT, host: e.HOST, idleTimeoutMs: e.HTTP_IDLE_TIMEOUT * 1000, headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT * 1000 },
    dataDir,
    database: database ?? { kind: 'pglite', dir: path.join(dataDir, 'db') },
    blobs: {
      kind: e.BLOB_STORE,
      dir: path.join(dataDir, 'blobs'),
      s3: e.BLOB_STORE !== 's3' ? null : {
        endpoint: e.S3_ENDPOINT ?? null,
        region: e.S3_REGION,
        bucket: e.S3_BUCKET!,
        accessKeyId: e.S3_ACCESS_KEY_ID ?? null,
        secretAccessKey: e.S3_SECRET_ACCESS_KEY ?? null,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        maxAttempts: e.S3_MAX_ATTEMPTS,
        publicEndpoint: e.S3_PUBLIC_ENDPOINT ?? null,
        objectLock: e.S3_OBJECT_LOCK_DAYS || e.S3_LEGAL_HOLD ? { retentionDays: e.S3_OBJECT_LOCK_DAYS ?? null, legalHold: e.S3_LEGAL_HOLD } : null,
        serverSideEncryption: e.S3_SSE ? { mode: e.S3_SSE, kmsKeyId: e.S3_SSE_KMS_KEY_ID ?? null } : null,
        caPem: e.S3_CA_FILE ? readPem(e.S3_CA_FILE, 'S3_CA_FILE') : null,
      },
      redirect: { minBytes: e.S3_REDIRECT_MIN_BYTES, ttlSeconds: e.S3_REDIRECT_TTL },
    },
    uploads: { dir: path.join(dataDir, 'uploads'), maxBytes: e.MAX_UPLOAD_BYTES, expirySeconds: e.UPLOAD_EXPIRY, streamIngest: e.UPLOAD_STREAM_INGEST },
    keysDir: path.join(dataDir, 'keys'),
    workers: { mode: e.WORKERS, ingestConcurrency: e.INGEST_CONCURRENCY, stopGraceMs: e.WORKER_STOP_GRACE * 1000 },
    metrics: { allow: e.METRICS_ALLOW, token: e.METRICS_TOKEN ?? null },
    signatureSuite: e.SIGNATURE_SUITE,
    links: { maxTtlSeconds: e.LINK_MAX_TTL, publicUrl: e.PUBLIC_URL?.replace(/\/+$/, '') ?? null },
    auth: {
      issuer: e.AUTH_ISSUER ?? LOCAL_ISSUER,
      audience: e.AUTH_AUDIENCE ?? DEFAULT_AUDIENCE,
      jwksUrl: e.AUTH_JWKS_URL ?? null,
      claims: { agency: e.AUTH_CLAIM_AGENCY, roles: e.AUTH_CLAIM_ROLES },
    },
    oidc: !e.OIDC_ISSUER ? null : {
      issuer: e.OIDC_ISSUER,
      clientId: e.OIDC_CLIENT_ID!,
      clientSecret: e.OIDC_CLIENT_SECRET!,
      scopes: e.OIDC_SCOPES,
      redirectUrl: e.OIDC_REDIRECT_URL ?? null,
      claims: { user: e.OIDC_CLAIM_USER, agency: e.OIDC_CLAIM_AGENCY, roles: e.OIDC_CLAIM_ROLES },
      label: e.OIDC_LABEL ?? null,
    },
    ocr: {
      langs: e.OCR_LANGS,
      workers: e.OCR_WORKERS ?? os.availableParallelism(),
      engine: ocr.engine,
      models: ocr.models,
      pagesPerSlot: e.OCR_PAGES_PER_SLOT,
      pageTimeoutMs: e.OCR_PAGE_TIMEOUT * 1000,
      processEnv: { MALLOC_ARENA_MAX: '2' },
    },
    logLevel: e.LOG_LEVEL,
    audit: { checkpointEvery: e.AUDIT_CHECKPOINT_EVERY, checkpointIntervalMs: e.AUDIT_CHECKPOINT_INTERVAL * 1000 },
    agenciesFile: e.AGENCIES_FILE ? path.resolve(e.AGENCIES_FILE) : null,
    supervision: { checkIntervalMs: e.SUPERVISION_CHECK_INTERVAL * 1000 },
    webhooks: {
      allowHosts: e.WEBHOOK_ALLOW_HOSTS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE * 1000,
      retryMaxMs: e.WEBHOOK_RETRY_MAX * 1000,
      disableAfterMs: e.WEBHOOK_DISABLE_AFTER * 1000,
      timeoutMs: e.WEBHOOK_TIMEOUT * 1000,
    },
    cores: os.availableParallelism(),
    sessions: { idleSeconds: e.SESSION_IDLE, absoluteSeconds: e.SESSION_MAX_AGE },
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? {
      certFile: path.resolve(e.TLS_CERT_FILE),
      keyFile: path.resolve(e.TLS_KEY_FILE),
      clientCaFile: e.TLS_CLIENT_CA_FILE ? path.resolve(e.TLS_CLIENT_CA_FILE) : null,
      clientMapFile: e.TLS_CLIENT_MAP_FILE ? path.resolve(e.TLS_CLIENT_MAP_FILE) : null,
      redirectPort: e.TLS_HTTP_REDIRECT_PORT ?? null,
    } : null,
    trustProxy: trustProxyOf(e.TRUST_PROXY),
    atRest: e.MASTER_KEY_FILE ? {
      masterKeyFile: path.resolve(e.MASTER_KEY_FILE),
      oldMasterKeyFiles: (e.MASTER_KEY_OLD_FILE ?? '').split(',').map((f) => f.trim()).filter(Boolean).map((f) => path.resolve(f)),
      cipher: e.ENCRYPTION_AT_REST === 'off' ? null : e.ENCRYPTION_AT_REST === 'sm4' ? 'sm4-ctr-hmac-sm3' : e.ENCRYPTION_AT_REST,
    } : null,
    failpoints,
  });
}

/** TRUST_PROXY as express takes it: true/false, a hop count, or a list of addresses and subnets. */
function trustProxyOf(v: string | undefined): boolean | number | string {
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  return /^\d+$/.test(v) ? Number(v) : v;
}

function readPem(file: string, variable: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${variable}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/**
 * DATABASE_URL with its TLS settings taken out: sslmode and sslrootcert (in the URL, or PGSSLMODE
 * and PGSSLROOTCERT) become our own verified TLS options, so pg's own reading never loosens them.
 */
function postgresSettings(raw: string, envMode: string | undefined, envRoot: string | undefined): { kind: 'postgres'; url: string; tls: PostgresTls | null } {
  const url = new URL(raw);
  const mode = url.searchParams.get('sslmode') ?? envMode ?? 'disable';
  const root = url.searchParams.get('sslrootcert') ?? envRoot ?? null;
  for (const p of ['sslmode', 'sslrootcert', 'ssl', 'sslcert', 'sslkey', 'uselibpqcompat']) url.searchParams.delete(p);
  if (mode !== 'disable' && mode !== 'verify-ca' && mode !== 'verify-full') {
    throw new ConfigError(`invalid configuration:\n  PGSSLMODE: ${mode} would skip or make optional the check of the server's certificate; use verify-full (PGSSLROOTCERT: the CA), or disable on a trusted network`);
  }
  return { kind: 'postgres', url: url.toString(), tls: mode === 'disable' ? null : { mode, rootCertFile: root ? path.resolve(root) : null } };
}

/** The process environment, read here and nowhere else. */
export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  return configFromEnv({ ...process.env, ...overrides });
}

/** Settings of the CLI client commands (upload, migrate) that are read from the environment. */
export function clientDefaults(): { server: string; token: string | undefined; stateDir: string; cacert: string | undefined } {
  const configHome = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return {
    server: process.env.DOSSIER_SERVER ?? 'http://127.0.0.1:8080',
    token: process.env.DOSSIER_TOKEN,
    cacert: process.env.DOSSIER_CACERT || undefined,
    // Where `dossier upload` remembers unfinished uploads so that a re-run resumes them.
    stateDir: process.env.DOSSIER_STATE_DIR ?? path.join(configHome, 'dossier'),
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
