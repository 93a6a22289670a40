/** Which job owners a starting process may take work from: those on this host that are gone. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { expect } from 'chai';
import { ownerIsGone } from '../storage/queue/job-runner.js';

describe('job owners that are gone', () => {
  const host = os.hostname();
  const self = `${host}:${process.pid}:aaaaaaaa`;

  it('a process of this host that has exited is gone; a live one, ourselves and other hosts are not', () => {
    const exited = spawnSync(process.execPath, ['-e', '0']).pid!;
    expect(ownerIsGone(`${host}:${exited}:bbbbbbbb`, self)).to.equal(true);
    expect(ownerIsGone(`${host}:${process.ppid}:bbbbbbbb`, self), 'our parent lives').to.equal(false);
    expect(ownerIsGone(self, self)).to.equal(false);
    expect(ownerIsGone(`another-host:${exited}:bbbbbbbb`, self)).to.equal(false);
    expect(ownerIsGone('garbage', self)).to.equal(false);
  });

  it('our own pid under another nonce is a predecessor (a restarted container runs as the same pid)', () => {
    expect(ownerIsGone(`${host}:${process.pid}:cccccccc`, self)).to.equal(true);
  });
});
