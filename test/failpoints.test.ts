/** The failpoint rules (FAILPOINTS) that the crash-point suite arms: parsed strictly, counted per point. */
import { expect } from 'chai';
import { armFailpoints, failpoint, FailpointError, parseFailpoints, type FailpointRule } from '../dossier/failpoints.js';
import { ConfigError, loadConfig } from '../runtime/config.js';

describe('failpoints', () => {
  afterEach(() => armFailpoints([]));

  it('parses name=kill|error[@N[-M]] lists', () => {
    expect(parseFailpoints('blob.fsync=kill@20, s3.put=error@1-3,audit.append=error')).to.deep.equal([
      { name: 'blob.fsync', action: 'kill', from: 20, to: 20 },
      { name: 's3.put', action: 'error', from: 1, to: 3 },
      { name: 'audit.append', action: 'error', from: 1, to: 1 },
    ]);
    expect(parseFailpoints('')).to.deep.equal([]);
  });

  for (const [spec, message] of [
    ['blob.fsnyc=kill', /no failpoint blob\.fsnyc/],
    ['blob.fsync=explode', /expected name=kill\|error/],
    ['blob.fsync=error@0', /hits count from 1/],
    ['blob.fsync=error@5-2', /must not be empty/],
    ['blob.fsync=kill@1,blob.fsync=error@2', /named twice/],
  ] as const) {
    it(`refuses ${spec}`, () => expect(parseFailpoints(spec)).to.be.a('string').and.match(message));
  }

  it('fails exactly the hits its rule names, each point counted apart, and nothing once disarmed', () => {
    armFailpoints(parseFailpoints('blob.write=error@2-3') as FailpointRule[]);
    const outcome = () => {
      try {
        failpoint('blob.write');
        return 'passed';
      } catch (err) {
        expect(err).to.be.instanceOf(FailpointError).and.include({ code: 'EIO', point: 'blob.write' });
        return 'failed';
      }
    };
    expect([outcome(), outcome(), outcome(), outcome()]).to.deep.equal(['passed', 'failed', 'failed', 'passed']);
    failpoint('blob.fsync'); // another point: not armed, passes
    armFailpoints([]);
    expect(outcome()).to.equal('passed');
  });

  it('a bad FAILPOINTS stops the configuration with the reason', () => {
    expect(() => loadConfig({ FAILPOINTS: 'db.commit=kill@x' })).to.throw(ConfigError, /FAILPOINTS: "db\.commit=kill@x"/);
    expect(loadConfig({ FAILPOINTS: undefined }).failpoints).to.deep.equal([]);
  });
});
