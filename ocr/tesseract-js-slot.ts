/**
 * The parent's handle on one tesseract.js slot process (tesseract-js-process.ts): forked with
 * advanced serialization (page PNGs cross as Buffers, not JSON), asked to detect orientation or
 * recognize a prepared page, measured (its resident memory, from /proc), and ended by a kill:
 * the exited process gives back everything its WASM heaps and malloc arenas held.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkerMemory } from './engine.js';
import type { Orientation, Rotation } from './prepare-image.js';
import type { SlotAnswer, SlotRequest, SlotSetup } from './tesseract-js-process.js';

// The entry sits beside this file: .js when compiled; .ts from source (tests, bench), which the
// child reads through tsx, registered by its own --import (process.execArgv is not inherited).
const fromSource = import.meta.url.endsWith('.ts');
const entry = fileURLToPath(new URL(`./tesseract-js-process${fromSource ? '.ts' : '.js'}`, import.meta.url));
const execArgv = fromSource ? ['--import', import.meta.resolve('tsx')] : [];

type Pending = { readonly resolve: (a: SlotAnswer) => void; readonly reject: (e: Error) => void };

export class SlotProcess {
  /** Rejects when the process exits: a crashed slot must not leave a page waiting forever. */
  readonly died: Promise<never>;
  dead = false;
  /** Pages read so far: at pagesPerSlot the slot is recycled. */
  pages = 0;
  /** Set while the slot waits in the idle list. */
  idleTimer?: NodeJS.Timeout;
  private readonly pending = new Map<number, Pending>();
  private readonly exited: Promise<void>;
  private nextId = 0;

  private constructor(private readonly child: ChildProcess) {
    let markDead!: (e: Error) => void;
    this.died = new Promise<never>((_, reject) => { markDead = reject; });
    this.died.catch(() => {});
    this.exited = new Promise((resolve) => {
      const gone = (err: Error) => {
        if (this.dead) return;
        this.dead = true;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        markDead(err);
        resolve();
      };
      child.once('exit', (code, signal) => gone(new Error(`tesseract.js worker process exited (${signal ?? code})`)));
      // A process that never started has no exit to come; a failed send is followed by the exit.
      child.on('error', (err) => { if (child.pid === undefined) gone(err); });
    });
    child.on('message', (a: SlotAnswer) => {
      if (!('id' in a)) return;
      const p = this.pending.get(a.id);
      this.pending.delete(a.id);
      p?.resolve(a);
    });
  }

  /**
   * A process with the slot's first recognizer and its osd worker started. `env` is the whole
   * environment it gets: nothing of the gateway's own (database URLs, keys) is inherited.
   */
  static async start(setup: SlotSetup, env: Readonly<Record<string, string>>): Promise<SlotProcess> {
    const child = fork(entry, [], { serialization: 'advanced', execArgv, env: { ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const slot = new SlotProcess(child);
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (a: SlotAnswer) => {
        if (a.type === 'ready') resolve();
        if (a.type === 'failed') reject(new Error(a.message));
      });
      slot.died.catch(reject);
    });
    try {
      child.send({ type: 'start', ...setup } satisfies SlotRequest);
      await ready;
    } catch (err) {
      await slot.end();
      throw new Error(`tesseract.js worker did not start: ${(err as Error).message}`);
    }
    return slot;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private ask(request: (id: number) => SlotRequest): Promise<SlotAnswer> {
    if (this.dead) return Promise.reject(new Error('tesseract.js worker process exited'));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send(request(id), (err) => {
        if (err && this.pending.delete(id)) reject(err);
      });
    });
  }

  async detect(png: Buffer): Promise<Orientation | null> {
    const a = await this.ask((id) => ({ type: 'detect', id, png }));
    if (a.type === 'error') throw new Error(`tesseract.js: ${a.message}`);
    if (a.type !== 'detected' || a.degrees === null || a.confidence === null) return null;
    return { rotate: a.degrees as Rotation, confidence: a.confidence };
  }

  async recognize(languages: string, png: Buffer): Promise<{ text: string; tsv: string }> {
    const a = await this.ask((id) => ({ type: 'recognize', id, languages, png }));
    if (a.type === 'error') throw new Error(`tesseract.js: ${a.message}`);
    if (a.type !== 'recognized') throw new Error(`tesseract.js: unexpected answer ${a.type}`);
    return { text: a.text, tsv: a.tsv };
  }

  /** Its memory now; null once it exited, or where /proc is not there to read. */
  memory(): WorkerMemory | null {
    const pid = this.child.pid;
    if (this.dead || pid === undefined) return null;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
      const m = { pid, rssBytes: kb('VmRSS'), peakBytes: kb('VmHWM') };
      return Number.isFinite(m.rssBytes) ? m : null;
    } catch {
      return null;
    }
  }

  /** Kills the process (a hung page's WASM cannot be asked to stop) and waits for its exit. */
  async end(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
