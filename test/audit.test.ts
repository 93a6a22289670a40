/**
 * The audit chain on both engines: appends link up, concurrent appends (from two connection pools
 * on PostgreSQL, as two processes would) make one unbroken chain, and every kind of tampering with
 * the rows is found and named by its first bad seq.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { eventHash, GENESIS_HASH, type AuditEvent } from '../dossier/audit/event.js';
import { checkpointFromJws, signCheckpoint } from '../dossier/audit/checkpoint.js';
import type { AuditEntry } from '../dossier/ports/audit-log.js';
import { SqlAuditLog } from '../storage/db/audit-log.js';
import { type Database, SqlTransactions } from '../storage/db/database.js';
import { migrate } from '../storage/db/migrate.js';
import { openPostgres } from '../storage/db/postgres-database.js';
import { FileKeyRing } from '../storage/keys/file-keyring.js';
import { forEachEngine } from './support/databases.js';
import { tempDir } from './support/fixtures.js';
import { eventually } from './support/eventually.js';
import { ConfigError, configFromEnv } from '../runtime/config.js';

const entry = (i: number, caseId: string | null = null): AuditEntry => ({
  actor: `user-${i % 3}`,
  agency: 'police-1',
  action: 'page.read',
  target: { type: 'page', id: `d1/${i}` },
  caseId,
  details: { i, note: `读取 ${i}`, nested: { b: 2, a: [1, 'x'] } },
});

async function all(log: SqlAuditLog): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const e of log.stream(7)) out.push(e);
  return out;
}

/** What an attacker with write access to the tables does to hide an edit: recompute every later hash. */
async function rewriteFrom(db: Database, events: AuditEvent[], fromSeq: number): Promise<void> {
  let prev = events.find((e) => e.seq === fromSeq - 1)?.hash ?? GENESIS_HASH;
  for (const e of events.filter((x) => x.seq >= fromSeq)) {
    const hash = eventHash({ ...e, prevHash: prev });
    await db.query('UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE seq = $3', [prev, hash, e.seq]);
    prev = hash;
  }
  await db.query('UPDATE audit_head SET hash = $1 WHERE id = 1', [prev]);
}

forEachEngine('audit chain', (engine) => {
  let db: Database;
  let keys: FileKeyRing;
  let log: SqlAuditLog;

  before(async function () {
    this.timeout(120_000);
    db = engine().db;
    await migrate(db);
    keys = await FileKeyRing.open(await tempDir('dossier-audit-keys-'), { create: true });
    log = new SqlAuditLog(db, keys, { checkpointEvery: 10 });
  });

  /** A fresh chain of `n` events (checkpoints at every tenth). */
  const freshChain = async (n: number) => {
    await db.query('DELETE FROM audit_events');
    await db.query('DELETE FROM audit_checkpoints');
    await db.query('UPDATE audit_head SET seq = 0, hash = $1 WHERE id = 1', [GENESIS_HASH]);
    for (let i = 1; i <= n; i++) await log.record(entry(i));
    return all(log);
  };

  it('chains each event to the previous one, from the genesis hash', async () => {
    const caseId = randomUUID().toUpperCase();
    await freshChain(0);
    await log.record(entry(1, caseId));
    await log.record(entry(2));
    const events = await all(log);
    expect(events.map((e) => e.seq)).to.deep.equal([1, 2]);
    expect(events[0]!.prevHash).to.equal(GENESIS_HASH);
    expect(events[1]!.prevHash).to.equal(events[0]!.hash);
    for (const e of events) expect(eventHash(e)).to.equal(e.hash);
    expect(events[0]!.caseId).to.equal(caseId.toLowerCase());
    expect(events[0]!.details).to.deep.equal({ i: 1, note: '读取 1', nested: { b: 2, a: [1, 'x'] } });
    expect(events[0]!.time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await log.verify()).to.deep.equal({ ok: true, checked: 2 });
  });

  it('appends inside the caller’s transaction, and not at all when it rolls back', async () => {
    await freshChain(3);
    const tx = new SqlTransactions(db);
    await tx.run(async (t) => log.record(entry(4), t));
    await tx.run(async (t) => {
      await log.record(entry(5), t);
      throw new Error('the caller fails');
    }).catch(() => {});
    expect((await all(log)).map((e) => e.seq)).to.deep.equal([1, 2, 3, 4]);
    expect(await log.verify()).to.deep.equal({ ok: true, checked: 4 });
  });

  it('makes one unbroken chain of concurrent appends', async function () {
    this.timeout(60_000);
    await freshChain(0);
    // On PostgreSQL a second pool stands for a second process appending to the same chain.
    const other = engine().url ? await openPostgres(engine().url!, { max: 4 }) : null;
    const otherLog = other ? new SqlAuditLog(other, keys, { checkpointEvery: 10 }) : log;
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? otherLog : log).record(entry(i))));
    } finally {
      await other?.close();
    }
    const events = await all(log);
    expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(new Set(events.map((e) => e.details.i)).size).to.equal(50);
    expect(await log.verify()).to.deep.equal({ ok: true, checked: 50 });
    expect((await log.checkpoints()).map((c) => c.seq)).to.deep.equal([10, 20, 30, 40, 50]);
  });

  it('fails only the bad entry of appends made together', async () => {
    await freshChain(0);
    const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => log.record(entry(i, i === 4 ? 'not-a-uuid' : null))));
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const events = await all(log);
    expect(events.map((e) => e.details.i)).to.have.members([0, 1, 2, 3, 5, 6, 7, 8]);
    expect(await log.verify()).to.deep.equal({ ok: true, checked: 8 });
  });

  it('signs an interval checkpoint only when events arrived since the last one', async () => {
    await freshChain(12);
    const c = await log.checkpoint();
    expect(c?.seq).to.equal(12);
    expect(await log.checkpoint()).to.equal(null);
    expect((await log.checkpoints()).map((x) => x.seq)).to.deep.equal([10, 12]);
    expect((await log.verify()).ok).to.equal(true);
  });

  it('signs interval checkpoints from its timer while events arrive', async () => {
    await freshChain(3);
    const errors: unknown[] = [];
    const stop = log.checkpointEveryInterval(20, (err) => errors.push(err));
    try {
      await eventually(async () => ((await log.checkpoints()).some((c) => c.seq === 3) ? true : undefined), 10_000, 'checkpoint at 3');
      await log.record(entry(4));
      await eventually(async () => ((await log.checkpoints()).some((c) => c.seq === 4) ? true : undefined), 10_000, 'checkpoint at 4');
    } finally {
      await stop();
    }
    expect(errors).to.deep.equal([]);
    expect((await log.checkpoints()).map((c) => c.seq)).to.deep.equal([3, 4]);
    expect(await log.verify()).to.deep.equal({ ok: true, checked: 4 });
  });

  describe('detects tampering', () => {
    it('an edited row', async () => {
      await freshChain(25);
      await db.query(`UPDATE audit_events SET details = '{"i": 999}'::jsonb WHERE seq = 7`);
      expect(await log.verify()).to.include({ ok: false, checked: 6, firstBadSeq: 7 });
    });

    it('an edited row whose hash was recomputed', async () => {
      await freshChain(25);
      await db.query(`UPDATE audit_events SET actor = 'someone-else' WHERE seq = 7`);
      const [edited] = (await all(log)).filter((e) => e.seq === 7);
      await db.query('UPDATE audit_events SET hash = $1 WHERE seq = 7', [eventHash(edited!)]);
      expect(await log.verify()).to.include({ ok: false, firstBadSeq: 8 });
    });

    it('a deleted row', async () => {
      await freshChain(25);
      await db.query('DELETE FROM audit_events WHERE seq = 7');
      const report = await log.verify();
      expect(report).to.include({ ok: false, checked: 6, firstBadSeq: 7 });
      expect(report.reason).to.match(/missing/);
    });

    it('two rows swapped', async () => {
      await freshChain(25);
      await db.query('UPDATE audit_events SET seq = 1000007 WHERE seq = 7');
      await db.query('UPDATE audit_events SET seq = 7 WHERE seq = 8');
      await db.query('UPDATE audit_events SET seq = 8 WHERE seq = 1000007');
      expect(await log.verify()).to.include({ ok: false, firstBadSeq: 7 });
    });

    it('the tail cut below a signed checkpoint, the head reset to match', async () => {
      const events = await freshChain(25);
      await db.query('DELETE FROM audit_events WHERE seq > 15');
      await db.query('UPDATE audit_head SET seq = 15, hash = $1 WHERE id = 1', [events[14]!.hash]);
      const report = await log.verify();
      expect(report).to.include({ ok: false, checked: 15, firstBadSeq: 16 });
      expect(report.reason).to.match(/checkpoint covers event 20/);
    });

    it('the tail cut with its checkpoints and the head: only an anchor kept outside shows it', async () => {
      const events = await freshChain(25);
      const anchor = checkpointFromJws((await log.latestCheckpoint())!.jws);
      expect(anchor.seq).to.equal(20);
      await db.query('DELETE FROM audit_events WHERE seq > 15');
      await db.query('DELETE FROM audit_checkpoints WHERE seq > 15');
      await db.query('UPDATE audit_head SET seq = 15, hash = $1 WHERE id = 1', [events[14]!.hash]);
      expect(await log.verify()).to.deep.equal({ ok: true, checked: 15 });
      const report = await log.verify([anchor]);
      expect(report).to.include({ ok: false, checked: 15, firstBadSeq: 16 });
      expect(report.reason).to.match(/checkpoint covers event 20/);
      // An anchor that was tampered with in transit is refused for its signature.
      const forged = { ...anchor, hash: events[14]!.hash, seq: 15 };
      expect((await log.verify([forged])).reason).to.match(/differs from what was signed/);
    });

    it('the tail cut with the head left alone', async () => {
      await freshChain(25);
      await db.query('DELETE FROM audit_events WHERE seq > 22');
      expect(await log.verify()).to.include({ ok: false, checked: 22, firstBadSeq: 23 });
    });

    it('a rewritten stretch that no longer matches a signed checkpoint', async () => {
      await freshChain(25);
      await db.query(`UPDATE audit_events SET details = '{"i": 999}'::jsonb WHERE seq = 12`);
      await rewriteFrom(db, await all(log), 12);
      const report = await log.verify();
      expect(report).to.include({ ok: false, checked: 19, firstBadSeq: 20 });
      expect(report.reason).to.match(/checkpoint/);
    });

    it('a forged checkpoint over a rewritten stretch', async () => {
      await freshChain(25);
      await db.query(`UPDATE audit_events SET details = '{"i": 999}'::jsonb WHERE seq = 12`);
      await rewriteFrom(db, await all(log), 12);
      const after = await all(log);
      // The attacker signs new checkpoints with a key of their own, with the same kid even.
      const forger = await FileKeyRing.open(await tempDir('dossier-forger-'), { create: true });
      const honestKid = keys.current().kid;
      const forgerSigner = { ...forger.current(), kid: honestKid, sign: forger.current().sign };
      const c = await signCheckpoint(forgerSigner, { seq: 20, hash: after[19]!.hash }, new Date());
      await db.query('UPDATE audit_checkpoints SET hash = $1, jws = $2, time = $3 WHERE seq = 20', [c.hash, c.jws, c.time]);
      const report = await log.verify();
      expect(report).to.include({ ok: false, firstBadSeq: 20 });
      expect(report.reason).to.match(/signature/);
    });

    it('a checkpoint row altered without re-signing', async () => {
      const events = await freshChain(25);
      await db.query('UPDATE audit_checkpoints SET seq = 11, hash = $1 WHERE seq = 10', [events[10]!.hash]);
      const report = await log.verify();
      expect(report).to.include({ ok: false, firstBadSeq: 11 });
      expect(report.reason).to.match(/differs from what was signed/);
    });
  });
});

describe('audit checkpoint configuration', () => {
  it('defaults to every 1000 events or 10 minutes, and reads AUDIT_CHECKPOINT_*', () => {
    expect(configFromEnv({}).audit).to.deep.equal({ checkpointEvery: 1000, checkpointIntervalMs: 600_000 });
    expect(configFromEnv({ AUDIT_CHECKPOINT_EVERY: '50', AUDIT_CHECKPOINT_INTERVAL: '30s' }).audit).to.deep.equal({ checkpointEvery: 50, checkpointIntervalMs: 30_000 });
    expect(() => configFromEnv({ AUDIT_CHECKPOINT_EVERY: '0' })).to.throw(ConfigError, /AUDIT_CHECKPOINT_EVERY/);
    expect(() => configFromEnv({ AUDIT_CHECKPOINT_INTERVAL: 'often' })).to.throw(ConfigError, /AUDIT_CHECKPOINT_INTERVAL/);
  });
});
