import { expect } from 'chai';
import { readAhead, type Task } from '../../dossier/pages/read-ahead.js';

/** Tasks that finish when told to, recording how many run at once. */
function tasks() {
  const running = new Set<number>();
  const cancelled: number[] = [];
  let most = 0;
  const start = (i: number): Task<number> => {
    running.add(i);
    most = Math.max(most, running.size);
    let cancel = () => {};
    const result = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        running.delete(i);
        resolve(i);
      }, 2);
      cancel = () => {
        clearTimeout(timer);
        running.delete(i);
        cancelled.push(i);
        reject(new Error('cancelled'));
      };
    });
    return { result, cancel };
  };
  return { start, running, cancelled, most: () => most };
}

describe('readAhead', () => {
  it('yields results in order with at most `window` tasks in flight', async () => {
    const t = tasks();
    const out: number[] = [];
    for await (const v of readAhead(10, t.start, { window: 3 })) out.push(v);
    expect(out).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(t.most()).to.equal(3);
  });

  it('keeps the bytes in flight within the budget, but always runs the oldest task', async () => {
    const t = tasks();
    const sizes = [10, 10, 10, 100, 10, 10];
    const out: number[] = [];
    let besideTheBigOne = -1;
    const start = (i: number) => {
      const task = t.start(i);
      if (i === 3) besideTheBigOne = t.running.size - 1;
      return task;
    };
    for await (const v of readAhead(sizes.length, start, { window: 4, budget: 25, sizeOf: (i) => sizes[i]! })) out.push(v);
    expect(out).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(t.most()).to.equal(2); // 10 + 10 fit in 25, a third 10 does not
    expect(besideTheBigOne).to.equal(0); // 100 is over the budget: it runs alone
  });

  it('an early return cancels the tasks ahead and waits for them', async () => {
    const t = tasks();
    for await (const v of readAhead(10, t.start, { window: 3 })) {
      if (v === 1) break;
    }
    expect(t.running.size).to.equal(0);
    expect(t.cancelled).to.deep.equal([2, 3, 4]); // the window refilled while 1 was handed out
  });

  it('a failing task surfaces in order; the tasks ahead are cancelled, no unhandled rejection', async () => {
    const failing = (i: number): Task<number> => (i === 2 ? { result: Promise.reject(new Error('boom')) } : { result: Promise.resolve(i) });
    const out: number[] = [];
    try {
      for await (const v of readAhead(6, failing, { window: 4 })) out.push(v);
      expect.fail('no error');
    } catch (err) {
      expect((err as Error).message).to.equal('boom');
    }
    expect(out).to.deep.equal([0, 1]);
  });
});
