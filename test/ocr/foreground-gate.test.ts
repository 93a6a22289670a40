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
});
