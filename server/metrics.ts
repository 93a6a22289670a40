/**
 * Prometheus metrics (prom-client): request latencies, bytes in and out measured at the edge,
 * job durations of this process, and the shared figures (dossiers, pages, OCR backlog, queue,
 * workers, audit chain) read from the database at each scrape, so every process reports the same.
 *
 * `/metrics` answers loopback peers that did not come through a proxy, the addresses (or CIDR
 * ranges) of METRICS_ALLOW, and requests bearing METRICS_TOKEN; everyone else gets 404.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import ipaddr from 'ipaddr.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OperationsReader } from '../dossier/ports/operations.js';
import type { DatabaseCounts } from '../storage/db/counted-database.js';
import { errorBody } from './errors.js';

export interface MetricsAccess {
  /** Addresses or CIDR ranges, besides loopback, that may scrape. */
  readonly allow: readonly string[];
  /** A bearer token that may scrape from anywhere; null: none. */
  readonly token: string | null;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requestSeconds: Histogram<'method' | 'route' | 'status'>;
  private readonly bytesUploaded: Counter;
  private readonly bytesServed: Counter<'route'>;
  private readonly jobSeconds: Histogram<'kind' | 'outcome'>;
  private readonly jobWaitSeconds: Histogram<'kind'>;
  private readonly written = new WeakMap<Socket, number>();

  /**
   * `databaseCounts`: this process's round trips (storage/db/counted-database.ts).
   * `ocrWorkerMemory`: the resident memory of this process's OCR worker processes.
   */
  constructor(operations: OperationsReader, options: { databaseCounts?: Readonly<DatabaseCounts>; ocrWorkerMemory?: () => readonly { readonly rssBytes: number }[] } = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: 'dossier_' });
    this.requestSeconds = new Histogram({
      name: 'dossier_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.bytesUploaded = new Counter({ name: 'dossier_upload_bytes_total', help: 'bytes accepted by tus PATCH (and creation-with-upload) requests', registers: [this.registry] });
    this.bytesServed = new Counter({ name: 'dossier_served_bytes_total', help: 'bytes written in answers to GET requests, headers included, by route pattern', labelNames: ['route'], registers: [this.registry] });
    this.jobSeconds = new Histogram({
      name: 'dossier_job_duration_seconds',
      help: 'jobs run by this process, by kind and outcome',
      labelNames: ['kind', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers: [this.registry],
    });
    this.jobWaitSeconds = new Histogram({
      name: 'dossier_job_wait_seconds',
      help: 'from a job being due to this process claiming it, by kind (the pick-up latency)',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [this.registry],
    });
    const counts = options.databaseCounts;
    if (counts) {
      new Counter({
        name: 'dossier_db_statements_total', help: 'SQL statements this process sent, outside or inside a transaction', labelNames: ['scope'], registers: [this.registry],
        collect(this: Counter<'scope'>) {
          this.reset();
          this.inc({ scope: 'single' }, counts.statements);
          this.inc({ scope: 'transaction' }, counts.statementsInTransactions);
        },
      });
      new Counter({
        name: 'dossier_db_transactions_total', help: 'transactions this process ran (each also a BEGIN and a COMMIT)', registers: [this.registry],
        collect(this: Counter) {
          this.reset();
          this.inc(counts.transactions);
        },
      });
    }
    const ocrMemory = options.ocrWorkerMemory;
    if (ocrMemory) {
      new Gauge({
        name: 'dossier_ocr_worker_resident_bytes', help: 'resident memory of this process\'s OCR worker processes (tesseract.js slots), summed', registers: [this.registry],
        collect(this: Gauge) {
          this.set(ocrMemory().reduce((sum, m) => sum + m.rssBytes, 0));
        },
      });
      new Gauge({
        name: 'dossier_ocr_worker_processes', help: 'OCR worker processes (tesseract.js slots) of this process running now', registers: [this.registry],
        collect(this: Gauge) {
          this.set(ocrMemory().length);
        },
      });
    }
    // One database snapshot per scrape, shared by the gauges below.
    let pending: Promise<Awaited<ReturnType<OperationsReader['snapshot']>>> | null = null;
    const snapshot = () => (pending ??= operations.snapshot().finally(() => setImmediate(() => { pending = null; })));
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: Awaited<ReturnType<typeof snapshot>>) => void) =>
      new Gauge({
        name, help, labelNames, registers: [this.registry],
        async collect(this: Gauge) {
          this.reset();
          fill(this, await snapshot());
        },
      });
    gauge('dossier_dossiers', 'dossiers by status', ['status'], (g, s) => {
      for (const status of ['receiving', 'processing', 'sealed', 'rejected']) g.set({ status }, s.dossiersByStatus[status] ?? 0);
    });
    gauge('dossier_sealed_pages', 'pages of sealed dossiers', [], (g, s) => g.set(s.sealedPages));
    gauge('dossier_ocr_backlog_pages', 'pages of sealed dossiers whose text is not read yet', [], (g, s) => g.set(s.ocrBacklogPages));
    gauge('dossier_ocr_pages_per_minute', 'pages whose text was finished in the last minute, all processes', [], (g, s) => g.set(s.ocrPagesLastMinute));
    gauge('dossier_audit_chain_length', 'events in the audit chain', [], (g, s) => g.set(s.auditChainLength));
    gauge('dossier_jobs', 'jobs not done, by kind and status (queue depth)', ['kind', 'status'], (g, s) => {
      for (const j of s.jobs) g.set({ kind: j.kind, status: j.status }, j.n);
    });
    gauge('dossier_workers', 'job runners beating in the last 10 s, by job kind', ['kind'], (g, s) => {
      const byKind = new Map<string, number>();
      for (const w of s.liveWorkers) for (const k of w.kinds) byKind.set(k, (byKind.get(k) ?? 0) + 1);
      for (const [kind, n] of byKind) g.set({ kind }, n);
    });
  }

  /** Observes every request: its latency by route pattern, and the bytes it moved. */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const route = routeOf(req);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.requestSeconds.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
        if (route === '/files' && (req.method === 'PATCH' || req.method === 'POST')) {
          // tus answers the new offset; the request named the old one (0 for a creation).
          const after = Number(res.getHeader('Upload-Offset'));
          const before = req.method === 'PATCH' ? Number(req.headers['upload-offset']) : 0;
          if (Number.isFinite(after) && Number.isFinite(before) && after > before) this.bytesUploaded.inc(after - before);
        }
        if (req.method === 'GET' && req.socket) {
          // bytesWritten counts the whole connection: this answer is what it grew by.
          const total = req.socket.bytesWritten;
          const last = this.written.get(req.socket) ?? 0;
          this.written.set(req.socket, total);
          if (total > last) this.bytesServed.inc({ route }, total - last);
        }
      });
      next();
    };
  }

  jobEnded(kind: string, outcome: string, seconds: number): void {
    this.jobSeconds.observe({ kind, outcome }, seconds);
  }

  jobClaimed(kind: string, waitSeconds: number): void {
    this.jobWaitSeconds.observe({ kind }, Math.max(0, waitSeconds));
  }

  /** The `/metrics` route, answered only to who may scrape. */
  route(access: MetricsAccess): RequestHandler {
    const ranges = access.allow.map(parseRange);
    const token = access.token ? Buffer.from(access.token) : null;
    return async (req, res, next) => {
      if (!mayScrape(req, ranges, token)) {
        res.status(404).json(errorBody('not_found', 'no such route'));
        return;
      }
      try {
        const body = await this.registry.metrics();
        res.setHeader('Content-Type', this.registry.contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.send(body);
      } catch (err) {
        next(err);
      }
    };
  }
}

/** The matched route's pattern (bounded label values), never the raw path. */
function routeOf(req: Request): string {
  if (req.baseUrl === '' && req.path.startsWith('/files')) return '/files';
  const pattern = req.route?.path;
  if (typeof pattern === 'string') return `${req.baseUrl}${pattern}`;
  if (req.baseUrl.startsWith('/d')) return '/d';
  return 'unmatched';
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseRange(entry: string): Range {
  const text = entry.trim();
  if (text.includes('/')) return ipaddr.parseCIDR(text);
  const address = ipaddr.parse(text);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

function mayScrape(req: Request, ranges: readonly Range[], token: Buffer | null): boolean {
  const auth = req.headers.authorization;
  if (token && auth?.startsWith('Bearer ')) {
    const given = Buffer.from(auth.slice(7));
    if (given.length === token.length && timingSafeEqual(given, token)) return true;
  }
  const peer = req.socket.remoteAddress;
  if (!peer || !ipaddr.isValid(peer)) return false;
  const address = ipaddr.process(peer);
  // A proxy on this host makes every outside request look local: forwarded ones are not loopback.
  const forwarded = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
  if (address.range() === 'loopback' && !forwarded) return true;
  return ranges.some(([base, bits]) => address.kind() === base.kind() && address.match(base, bits));
}
