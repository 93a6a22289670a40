/**
 * The composition root: builds every part from a validated Config and hands each what it needs.
 * `dossier serve`, `dossier worker` and the tests all start here; nothing else wires parts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet } from 'jose';
import { pino, type DestinationStream, type Logger } from 'pino';
import { armFailpoints } from '../dossier/failpoints.js';
import { createTokenVerifier } from '../dossier/access/tokens.js';
import { ingestHandler, thumbnailHandler, INGEST_JOB } from '../dossier/ingest/ingest-job.js';
import { receiveUpload } from '../dossier/ingest/receive-upload.js';
import { DEFAULT_LIMITS, type IngestLimits } from '../dossier/pages/types.js';
import { workerPageSource } from '../dossier/pages/pages-in-worker.js';
import { allowOnlyPageDecoders } from '../dossier/pages/page-decoders.js';
import type { PageSource } from '../dossier/pages/page-source.js';
import { PageRenderer } from '../dossier/pages/render/page-renderer.js';
import { FsBlobStore } from '../storage/blobs/fs-blob-store.js';
import { ContainedBlobStore } from '../storage/blobs/contained-blob-store.js';
import { SqlBlobRangeRepository } from '../storage/db/blob-range-repository.js';
import { EncryptedBlobStore } from '../storage/blobs/encrypted-blob-store.js';
import { SealPool } from '../storage/blobs/envelope/seal-pool.js';
import { SqlBlobKekRepository } from '../storage/db/blob-kek-repository.js';
import { SqlBlobKeyRepository } from '../storage/db/blob-key-repository.js';
import { openMasterKeys } from '../storage/keys/open-master-keys.js';
import { postgresTlsOptions } from './tls-files.js';
import { createHttpsServer, createRedirectServer } from './https-server.js';
import { certificatePrincipal } from '../server/client-certificates.js';
import { readClientCertificateMap } from './client-certificate-map.js';
import type { BlobStore } from '../dossier/ports/blob-store.js';
import { SqlTransactions, type Database } from '../storage/db/database.js';
import { migrate } from '../storage/db/migrate.js';
import { countedDatabase } from '../storage/db/counted-database.js';
import { openPglite } from '../storage/db/pglite-database.js';
import { BackupError, writeBackup, type BackupManifest, type BackupProgress } from '../storage/backup/embedded-backup.js';
import { listenControl, type ControlSocket } from './control-socket.js';
import { openPostgres } from '../storage/db/postgres-database.js';
import { SqlCaseRepository } from '../storage/db/case-repository.js';
import { SqlDossierRepository } from '../storage/db/dossier-repository.js';
import { SqlPageTextRepository } from '../storage/db/page-text-repository.js';
import { SqlPageSearch } from '../storage/db/page-search-repository.js';
import { createOcrEngine, ocrJobsAtOnce, ocrPagesAtOnce } from '../ocr/create-engine.js';
import { ForegroundGate } from '../ocr/foreground-gate.js';
import { CrcMemo } from '../server/zip/crc-memo.js';
import type { OcrEngine } from '../ocr/engine.js';
import { ocrHandler } from '../ocr/ocr-job.js';
import { OCR_JOB, THUMBNAIL_JOB } from '../dossier/ingest/derivatives.js';
import { SqlLinkRepository } from '../storage/db/link-repository.js';
import { SqlAgencyRepository } from '../storage/db/agency-repository.js';
import { SqlCaseNumberRepository } from '../storage/db/case-number-repository.js';
import { SqlStageRepository } from '../storage/db/stage-repository.js';
import { SqlTransferRepository } from '../storage/db/transfer-repository.js';
import { CustodyService } from '../dossier/custody/custody-service.js';
import { registerConfiguredAgencies } from './agencies-file.js';
import { SqlAuditLog } from '../storage/db/audit-log.js';
import { SqlAccountRepository, SqlPendingLoginRepository, SqlSessionRepository } from '../storage/db/account-repository.js';
import { FileKeyRing } from '../storage/keys/file-keyring.js';
import { PgJobQueue } from '../storage/queue/pg-job-queue.js';
import { JobRunner } from '../storage/queue/job-runner.js';
import { HashingFileStore } from '../storage/uploads/hashing-file-store.js';
import { UploadTails } from '../dossier/ingest/stream/upload-tails.js';
import { TusStaging } from '../storage/uploads/tus-staging.js';
import { PgUploadLocker } from '../storage/uploads/pg-upload-locker.js';
import { createApp } from '../server/app.js';
import { createTusServer } from '../server/tus.js';
import { defaultWebDir } from '../server/web-app.js';
import { ConfigError, type Config } from './config.js';
import { SqlClientRepository } from '../storage/db/client-repository.js';
import { SqlEventFeed } from '../storage/db/event-feed.js';
import { recordSearchable } from '../storage/db/searchable.js';
import { SqlIdempotencyStore } from '../storage/db/idempotency-store.js';
import { SqlSupervisionRepository } from '../storage/db/supervision-repository.js';
import { OVERDUE_CHECK_JOB, overdueCheckHandler, scheduleOverdueCheck } from '../dossier/supervision/overdue-check.js';
import { SqlSubscriptionRepository } from '../storage/db/webhook-repository.js';
import { HttpWebhookSender } from '../storage/webhooks/http-webhook-sender.js';
import { WEBHOOK_JOB, wakeDelivery, webhookHandler } from '../dossier/integration/webhook-delivery.js';
import type { Tx } from '../dossier/ports/transactions.js';
import { Metrics } from '../server/metrics.js';
import { SqlOperationsReader } from '../storage/db/operations-reader.js';

export interface ComposeOptions {
  readonly logger?: Logger;
  /** Where the gateway's own logger (with its redaction) writes; stdout if absent. */
  readonly logDestination?: DestinationStream;
  readonly limits?: Partial<IngestLimits>;
  /** Page reading in a worker thread (default) or in this thread. */
  readonly pageSource?: PageSource;
  /**
   * Leave every libvips loader enabled: only for a process that also draws its own test or
   * benchmark fixtures with SVG. The block is process-wide, so a gateway never lifts it.
   */
  readonly allDecoders?: boolean;
}

export type Gateway = Awaited<ReturnType<typeof compose>>;

/** Every kind of job a runner takes (what `dossier worker --jobs` may name). */
export const JOB_KINDS: readonly string[] = [INGEST_JOB, THUMBNAIL_JOB, OCR_JOB, OVERDUE_CHECK_JOB, WEBHOOK_JOB];

/** Checks `--jobs` before anything starts. */
export function checkJobKinds(kinds: readonly string[]): void {
  const unknown = kinds.filter((k) => !JOB_KINDS.includes(k));
  if (unknown.length) throw new ConfigError(`unknown job kind ${unknown.join(', ')}; kinds: ${JOB_KINDS.join(', ')}`);
}


export async function openDatabase(config: Config, log?: Logger): Promise<Database> {
  if (config.database.kind === 'pglite') return openPglite(config.database.dir);
  return openPostgres(config.database.url, { tls: postgresTlsOptions(config.database.tls), onPoolError: (err) => log?.warn({ err: err.message }, 'a database connection was lost; the pool replaces it') });
}

/**
 * The configured blob store: a directory (embedded default) or an S3 bucket, checked before use,
 * sealed at rest when a master key is configured (or blobs sealed before need one: the start stops).
 * The AWS SDK is loaded only for S3 (it adds a second or more to every start).
 */
export async function openBlobStore(config: Config, db: Database): Promise<BlobStore & { close?(): void }> {
  const master = await openMasterKeys(config.atRest, new SqlBlobKeyRepository(db), new SqlBlobKekRepository(db));
  let inner: FsBlobStore | import('../storage/blobs/s3-blob-store.js').S3BlobStore;
  if (!config.blobs.s3) inner = await FsBlobStore.open(config.blobs.dir);
  else {
    const { S3BlobStore } = await import('../storage/blobs/s3-blob-store.js');
    inner = await S3BlobStore.open(config.blobs.s3);
  }
  const scratchDir = inner instanceof FsBlobStore ? inner.scratchDir : path.join(config.dataDir, 'sealing');
  const whole = master ? await EncryptedBlobStore.open(inner, { db, master, cipher: config.atRest?.cipher ?? null, scratchDir, sealer: new SealPool() }) : inner;
  // Pages that are stored entries of their ZIP upload are kept as ranges of it, not copied; on S3,
  // only those below the presigned-redirect size (a range has no object of its own to presign).
  const { minBytes } = config.blobs.redirect;
  return new ContainedBlobStore(whole, new SqlBlobRangeRepository(db), config.blobs.s3 && minBytes > 0 ? minBytes - 1 : undefined);
}

export async function compose(config: Config, options: ComposeOptions = {}) {
  const log = options.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.token'] }, options.logDestination);
  // Round trips counted for /metrics: on the embedded database each is main-thread CPU.
  const { db, counts: databaseCounts, watch: watchStatements } = countedDatabase(await openDatabase(config, log));
  await migrate(db);
  const blobs = await openBlobStore(config, db).catch(async (err: unknown) => {
    await db.close();
    throw err;
  });
  // The evidence ring signs in the configured suite; a switch retires the other suite's key (still published).
  const keys = await FileKeyRing.open(path.join(config.keysDir, 'evidence'), { create: true, suite: config.signatureSuite });
  const issuerKeys = await FileKeyRing.open(path.join(config.keysDir, 'issuer'), { create: true });
  // Download links sign with a ring of their own: rotated apart from the evidence keys.
  const linkKeys = await FileKeyRing.open(path.join(config.keysDir, 'links'), { create: true, suite: config.signatureSuite });
  const links = new SqlLinkRepository(db);
  // The audit chain's checkpoints are signed with the evidence keys: verifiable with the same JWKS.
  // The event feed is written by the audit chain's appends, in their transactions.
  const events = new SqlEventFeed(db);
  const audit = new SqlAuditLog(db, keys, { checkpointEvery: config.audit.checkpointEvery, onAppend: events.append });
  let stopCheckpoints: (() => Promise<void>) | null = null;
  const startCheckpoints = () => {
    stopCheckpoints ??= audit.checkpointEveryInterval(config.audit.checkpointIntervalMs, (err) => log.error({ err }, 'audit checkpoint failed'));
  };
  const cases = new SqlCaseRepository(db);
  const dossiers = new SqlDossierRepository(db);
  const pageTexts = new SqlPageTextRepository(db, recordSearchable(audit));
  const search = new SqlPageSearch(db);
  const queue = new PgJobQueue(db);
  const limits: IngestLimits = { ...DEFAULT_LIMITS, ...options.limits };
  if (!options.allDecoders) allowOnlyPageDecoders();
  // In-stream ingest: the tail thread follows each upload as it lands (off the receiving thread).
  // Under the national suite pages need SM3 digests, which only the page source computes: read after the upload.
  const tails = config.uploads.streamIngest && config.signatureSuite === 'ed25519-sha256' ? new UploadTails({ blobs, keys, dossiers, limits, log }) : null;
  const store = new HashingFileStore({ directory: config.uploads.dir, expirationPeriodInMilliseconds: config.uploads.expirySeconds * 1000 }, tails);
  const staging = new TusStaging(config.uploads.dir, path.join(config.dataDir, 'quarantine'));

  const transactions = new SqlTransactions(db);
  const supervision = new SqlSupervisionRepository(db);
  // Webhooks: each feed event wakes the delivery job of every subscription that wants it, in the
  // event's own transaction, so no event commits without its deliveries being due.
  const subscriptions = new SqlSubscriptionRepository(db);
  const webhookSender = new HttpWebhookSender({ allowHosts: config.webhooks.allowHosts, timeoutMs: config.webhooks.timeoutMs });
  events.onEvents(async (appended, tx) => {
    for (const s of await subscriptions.wanting(appended, tx)) await wakeDelivery(queue, s.id, s.retryAt, tx as unknown as Tx);
  });
  const webhookDeps = { subscriptions, feed: events, sender: webhookSender, queue, log, policy: config.webhooks };
  // Page-reader threads kept warm, one per concurrent ingest: a small dossier pays no thread start.
  const pooledPages = options.pageSource ? null : workerPageSource({ keep: config.workers.ingestConcurrency });
  const ingestDeps = { dossiers, blobs, keys, pages: options.pageSource ?? pooledPages!, limits, staging, queue, log, audit, transactions, ...(tails ? { streamed: tails } : {}) };
  // One OCR engine per process, made when the first page needs it (a gateway that never OCRs
  // starts no tesseract worker) and closed on stop.
  let ocrEngine: OcrEngine | null = null;
  // One pool of page-drawing threads for OCR, thumbnails and the viewer (started on first use).
  const renderer = new PageRenderer({ threads: config.cores });
  // Downloads in the foreground: OCR and thumbnails work one page at a time while any streams;
  // uploads and ingests (intake): they hold back but for a trickle, so a migration keeps both cores.
  const gate = new ForegroundGate({ whileBusy: 1, whileIntake: 0 });
  const ocrDeps = { dossiers, pageTexts, blobs, queue, log, renderer, gate, pageTimeoutMs: config.ocr.pageTimeoutMs, pagesAtOnce: ocrPagesAtOnce(config.ocr), engine: async () => (ocrEngine ??= createOcrEngine(config.ocr)) };
  const metrics = new Metrics(new SqlOperationsReader(db, queue), { databaseCounts, ocrWorkerMemory: () => ocrEngine?.workerMemory?.() ?? [] });
  const makeRunner = (kinds?: readonly string[]) => {
    const handlers = [
      ingestHandler(ingestDeps, config.workers.ingestConcurrency, () => gate.foreground('intake')),
      thumbnailHandler({ ...ingestDeps, renderer, backgroundTurn: () => gate.turn() }, Math.max(1, config.cores)),
      // OCR jobs at once and the pages each hands the engine at a time: create-engine.ts.
      ocrHandler(ocrDeps, ocrJobsAtOnce(config.ocr)),
      overdueCheckHandler({ supervision, audit, transactions, queue, log, intervalMs: config.supervision.checkIntervalMs }),
      // Subscriptions are pumped in parallel, each one's events in order (one job per subscription).
      webhookHandler(webhookDeps, 8),
    ];
    if (kinds) checkJobKinds(kinds);
    return new JobRunner(queue, kinds ? handlers.filter((h) => kinds.includes(h.kind)) : handlers, log, {
      // The embedded database is this process's alone: jobs left running by a killed process are taken up at once.
      soleProcess: config.database.kind === 'pglite',
      onJobEnd: (kind, outcome, seconds) => metrics.jobEnded(kind, outcome, seconds),
      onJobClaimed: (kind, waited) => metrics.jobClaimed(kind, waited),
    });
  };
  let runner: JobRunner | null = null;

  const verify = createTokenVerifier({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    claims: config.auth.claims,
    keys: config.auth.jwksUrl ? createRemoteJWKSet(new URL(config.auth.jwksUrl)) : createLocalJWKSet({ keys: [...issuerKeys.publicJwks().keys] }),
  });
  // Gateways on one PostgreSQL share upload locks, so that any of them takes any request of an upload.
  const locker = config.database.kind === 'postgres' ? PgUploadLocker.create(config.database.url, { log, tls: postgresTlsOptions(config.database.tls) }) : undefined;
  const tus = createTusServer({ store, cases, dossiers, queue, maxBytes: config.uploads.maxBytes, log, audit, transactions, locker });
  const uploadOffset = async (id: string) => (await store.getUpload(id).catch(() => null))?.offset ?? null;
  // Ready: the database answers and the blob store answers a lookup (a missing key is an answer).
  const readiness = async () => {
    const checks: Record<string, string> = {};
    const [database, blobStore] = await Promise.all([
      db.query('SELECT 1').then(() => 'ok', (err: Error) => err.message),
      blobs.size('0'.repeat(64)).then(() => 'ok', (err: Error) => err.message),
    ]);
    checks.database = database;
    checks.blobs = blobStore;
    return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
  };
  const linkDeps = { links, linkKeys, linkMaxTtlSeconds: config.links.maxTtlSeconds, publicUrl: config.links.publicUrl };
  const agencies = new SqlAgencyRepository(db);
  if (config.agenciesFile) log.info({ agencies: await registerConfiguredAgencies(config.agenciesFile, agencies), file: config.agenciesFile }, 'agencies registered from AGENCIES_FILE');
  const stages = new SqlStageRepository(db);
  const transfers = new SqlTransferRepository(db);
  const custody = new CustodyService({ dossiers, agencies, stages, transfers, keys, audit, transactions });
  const custodyDeps = { agencies, stages, transfers, custody, caseNumbers: new SqlCaseNumberRepository(db) };
  const blobRedirect = config.blobs.kind === 's3' ? config.blobs.redirect : undefined;
  const accounts = new SqlAccountRepository(db);
  // Cookies are Secure when the outside world reaches us over HTTPS (TLS may end at a proxy).
  const sessions = { accounts, sessions: new SqlSessionRepository(db), policy: config.sessions, audit, secureCookies: config.tls !== null || (config.links.publicUrl?.startsWith('https:') ?? false) };
  const certificates = config.tls?.clientMapFile ? certificatePrincipal(await readClientCertificateMap(config.tls.clientMapFile)) : undefined;
  const oidc = config.oidc ? { sessions, pendingLogins: new SqlPendingLoginRepository(db), agencies, publicUrl: config.links.publicUrl, oidc: config.oidc } : undefined;
  // The gateway issues machine clients' tokens itself only when it is its own issuer.
  const tokenEndpoint = {
    clients: new SqlClientRepository(db),
    audit,
    publicUrl: config.links.publicUrl,
    issuer: config.auth.jwksUrl ? null : { id: config.auth.issuer, audience: config.auth.audience, key: () => issuerKeys.currentPair() },
  };
  const app = createApp({ log, verify, oidc, tokenEndpoint, keys, cases, dossiers, blobs, tus, uploadOffset, readiness, metrics, metricsAccess: config.metrics, audit, transactions, ...linkDeps, pageTexts, search, renderer, ...custodyDeps, sessions, webDir: defaultWebDir(), foreground: () => gate.foreground('download'), intake: () => gate.foreground('intake'), certificatePrincipal: certificates, trustProxy: config.trustProxy, supervision, events, subscriptions, webhookSender, queue, idempotency: new SqlIdempotencyStore(db), blobRedirect, exportCrcs: new CrcMemo() });

  /** Finishes what a crash interrupted: uploads whose last byte landed, ingests never enqueued. */
  const recover = async () => {
    for (const id of await dossiers.idsByStatus('receiving', 10_000)) {
      const upload = await store.getUpload(id).catch(() => null);
      if (upload?.size !== undefined && upload.offset === upload.size) {
        if (await receiveUpload(ingestDeps, { id, bytes: upload.size, sha256: null, actor: 'system', recovered: true })) log.info({ dossier: id }, 'recovered a finished upload');
      }
    }
    for (const id of await dossiers.idsByStatus('processing', 10_000)) {
      await queue.enqueue({ kind: INGEST_JOB, key: id, payload: { dossierId: id } });
    }
    // The overdue check's chain of runs, started (or kept) by whichever process starts.
    await scheduleOverdueCheck(queue);
  };

  let server: http.Server | null = null;
  let redirect: http.Server | null = null;
  let control: ControlSocket | null = null;
  const backup = embeddedBackup(config, db);
  let reloadTls: (() => void) | null = null;
  return {
    config,
    log,
    db,
    blobs,
    keys,
    issuerKeys,
    linkKeys,
    links,
    audit,
    cases,
    dossiers,
    pageTexts,
    agencies,
    transfers,
    accounts,
    supervision,
    events,
    queue,
    store,
    app,
    metrics,
    /** Told of every SQL statement this process sends (tests and benchmarks count a dossier's). */
    watchStatements,
    ingestDeps,
    /** Background work's turns (OCR, thumbnails) while downloads stream and dossiers come in. */
    gate,
    /** Recovers, starts the workers and listens; resolves with the bound address. */
    async start(): Promise<AddressInfo> {
      await recover();
      startCheckpoints();
      if (config.workers.mode === 'in-process') {
        runner = makeRunner();
        await runner.start();
      }
      if (config.tls) {
        const https = createHttpsServer(config.tls, app, log);
        server = https.server;
        reloadTls = https.reload;
      } else {
        // Node checks the headers deadline on this interval (default 30 s): check often enough to hold it.
        server = http.createServer({ connectionsCheckingInterval: Math.max(250, Math.min(30_000, config.http.headersTimeoutMs / 4)) }, app);
      }
      // Large uploads arrive as long PATCH requests: no request timeout, but a header deadline and
      // an idle one: a client that stops sending (or reading) mid-request is cut off, its tus
      // upload keeping what arrived (HEAD tells it). Node destroys a socket whose timeout fires.
      server.requestTimeout = 0;
      server.headersTimeout = config.http.headersTimeoutMs;
      server.timeout = config.http.idleTimeoutMs;
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.http.port, config.http.host, resolve);
      });
      if (config.tls?.redirectPort !== null && config.tls?.redirectPort !== undefined) {
        redirect = createRedirectServer(() => (server!.address() as AddressInfo).port);
        await new Promise<void>((resolve, reject) => {
          redirect!.once('error', reject);
          redirect!.listen(config.tls!.redirectPort!, config.http.host, resolve);
        });
      }
      // The embedded database has one owner: `dossier backup` asks this process over the socket.
      if (backup) control = await listenControl(config.dataDir, { backup: (request, progress) => backup(backupTarget(request), progress) }, log);
      // Hits are counted from here: the start's own recovery and migrations are not the steps under test.
      if (config.failpoints.length > 0) {
        armFailpoints(config.failpoints);
        log.warn({ failpoints: config.failpoints }, 'FAILPOINTS armed: this process will be killed or fail writes on purpose (fault-injection tests only)');
      }
      return server.address() as AddressInfo;
    },
    /** A backup of the embedded default (`dossier backup`), or null for a server database or S3. */
    backup,
    /** Where plain HTTP is redirected to HTTPS (TLS_HTTP_REDIRECT_PORT), when it is. */
    redirectAddress(): AddressInfo | null {
      return (redirect?.address() as AddressInfo | null) ?? null;
    },
    /** Re-reads TLS_CERT_FILE and TLS_KEY_FILE for new connections; those in flight keep theirs. */
    reloadTls(): void {
      if (!reloadTls) throw new Error('TLS is not configured (TLS_CERT_FILE, TLS_KEY_FILE)');
      reloadTls();
    },
    /** Jobs only, no HTTP: a `dossier worker` process sharing the database and the blob store. */
    async startWorker(options: { kinds?: readonly string[] } = {}): Promise<string> {
      runner = makeRunner(options.kinds);
      startCheckpoints();
      await scheduleOverdueCheck(queue);
      await runner.start();
      return runner.workerId;
    },
    /**
     * Closes HTTP, then the jobs: running ones get `graceMs` to finish (default 0: handed back to
     * the queue at once, for another worker or the next start), then everything else.
     */
    async stop(options: { graceMs?: number } = {}): Promise<void> {
      await control?.close();
      if (redirect) {
        const r = redirect;
        await new Promise<void>((resolve) => {
          r.close(() => resolve());
          r.closeAllConnections();
        });
      }
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await runner?.stop({ graceMs: options.graceMs ?? 0 });
      await pooledPages?.close();
      await tails?.close();
      await ocrEngine?.close();
      await renderer.close();
      gate.close();
      await stopCheckpoints?.();
      await db.close();
      await locker?.close();
      blobs.close?.();
    },
  };
}

/** `writeBackup` of this configuration's data directory, where it is the embedded default. */
export function embeddedBackup(config: Config, db: Database): ((out: string, onProgress?: (p: BackupProgress) => void) => Promise<BackupManifest>) | null {
  if (!db.snapshot || config.blobs.s3) return null;
  const layout = { blobsDir: config.blobs.dir, keysDir: config.keysDir };
  return (out, onProgress) => writeBackup({ db, layout, encryptedAtRest: config.atRest !== null }, out, onProgress);
}

function backupTarget(request: Record<string, unknown>): string {
  const out = request.out;
  if (typeof out !== 'string' || !path.isAbsolute(out)) throw new BackupError('backup_invalid', 'out: an absolute path expected');
  return out;
}
