import { expect } from 'chai';
import { ForegroundGate } from '../../ocr/foreground-gate.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('OCR yields to downloads (foreground gate)', () => {
  it('lets every background turn run while nothing is in the foreground', async () => {
    const gate = new ForegroundGate({ whileBusy: 1 });
    const turns = await Promise.all([gate.turn(), gate.turn(), gate.turn()]);
    expect(gate.inFlight).to.equal(3);
    for (const t of turns) t();
    expect(gate.inFlight).to.equal(0);
  });

  it('while a download runs, starts new turns one at a time; when it ends, all waiting ones', async () => {
    const gate = new ForegroundGate({ whileBusy: 1 });
    const end = gate.foreground();
    const first = await gate.turn();
    let second: (() => void) | null = null;
    let third: (() => void) | null = null;
    void gate.turn().then((t) => (second = t));
    void gate.turn().then((t) => (third = t));
    await tick();
    expect([gate.inFlight, second, third]).to.deep.equal([1, null, null]);
    first();
    await tick();
    // One more at a time: the second, never both.
    expect(gate.inFlight).to.equal(1);
    expect(second).to.be.a('function');
    expect(third).to.equal(null);
    end();
    await tick();
    expect(third).to.be.a('function');
    expect(gate.inFlight).to.equal(2);
    end(); // a second call changes nothing
    expect(gate.busy).to.equal(false);
    second!();
    third!();
    expect(gate.inFlight).to.equal(0);
  });

  it('lets pages already under way finish, and a waiting page give up with its signal', async () => {
    const gate = new ForegroundGate({ whileBusy: 1 });
    const a = await gate.turn();
    const b = await gate.turn();
    const end = gate.foreground();
    expect(gate.inFlight).to.equal(2);
    const stop = new AbortController();
    const waiting = gate.turn(stop.signal);
    stop.abort(new Error('stopping'));
    expect(await waiting.catch((e: Error) => e.message)).to.equal('stopping');
    a();
    b();
    const c = await gate.turn();
    expect(gate.inFlight).to.equal(1);
    c();
    end();
  });

  it('holds every new page while a dossier comes in (intake), but for one page a trickle', async () => {
    const gate = new ForegroundGate({ whileBusy: 1, whileIntake: 0, trickleMs: 150 });
    const before = await gate.turn(); // under way before the upload: it finishes
    const end = gate.foreground('intake');
    let held: (() => void) | null = null;
    const asked = Date.now();
    void gate.turn().then((t) => (held = t));
    await tick();
    expect([gate.inFlight, gate.queued, held]).to.deep.equal([1, 1, null]);
    before();
    await tick();
    // The page under way ended, but the intake holds the next one until the trickle is due.
    expect([gate.inFlight, held]).to.deep.equal([0, null]);
    await new Promise((r) => setTimeout(r, 250));
    expect(held).to.be.a('function');
    expect(Date.now() - asked).to.be.at.least(140);
    // One at a time under the trickle: a second waits even once it is due, while the first runs.
    let second: (() => void) | null = null;
    void gate.turn().then((t) => (second = t));
    await new Promise((r) => setTimeout(r, 250));
    expect([gate.inFlight, second]).to.deep.equal([1, null]);
    held!();
    await tick();
    expect(second).to.be.a('function'); // its trickle was due already
    second!();
    // The intake ends: everything waiting goes at once.
    const waiting = [gate.turn(), gate.turn()];
    await tick();
    expect(gate.queued).to.equal(2);
    end();
    await Promise.all(waiting).then((ts) => ts.forEach((t) => t()));
    expect([gate.inFlight, gate.queued, gate.busy]).to.deep.equal([0, 0, false]);
    gate.close();
  });

  it('under a download and an intake at once, the intake rules: it holds more back', async () => {
    const gate = new ForegroundGate({ whileBusy: 1, whileIntake: 0, trickleMs: 60_000 });
    const download = gate.foreground('download');
    const first = await gate.turn();
    first();
    const intake = gate.foreground('intake');
    let next: (() => void) | null = null;
    void gate.turn().then((t) => (next = t));
    await tick();
    expect(next).to.equal(null);
    intake();
    await tick();
    // Only the download is left: one page at a time again.
    expect(next).to.be.a('function');
    expect(gate.inFlight).to.equal(1);
    next!();
    download();
    gate.close();
  });

  it('many pages waiting with one signal take one abort listener, and all give up when it aborts', async () => {
    const gate = new ForegroundGate({ whileBusy: 1, whileIntake: 0, trickleMs: 60_000 });
    const end = gate.foreground('intake');
    const stop = new AbortController();
    let listeners = 0;
    const add = stop.signal.addEventListener.bind(stop.signal);
    stop.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      listeners++;
      add(...args);
    }) as AbortSignal['addEventListener'];
    // A turn already due under the trickle goes at once: take it first, so that the rest wait.
    const first = await gate.turn();
    const waiting = Array.from({ length: 20 }, () => gate.turn(stop.signal).then(() => 'went', (e: Error) => e.message));
    await tick();
    expect([gate.queued, listeners]).to.deep.equal([20, 1]);
    stop.abort(new Error('stopping'));
    expect(new Set(await Promise.all(waiting))).to.deep.equal(new Set(['stopping']));
    expect(gate.queued).to.equal(0);
    first();
    end();
    gate.close();
  });
});
