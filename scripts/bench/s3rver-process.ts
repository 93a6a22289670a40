/**
 * s3rver (an S3-protocol server from the npm registry, a dev dependency) in a child process on
 * 127.0.0.1, for the tests and the benchmark: stopped and restarted on the same port and data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';


// The child: s3rver on the given port (0: any), the bucket made, the bound port printed.
const CHILD = `
const S3rver = require(process.argv[1]);
const [dir, port, bucket] = process.argv.slice(2);
new S3rver({ address: '127.0.0.1', port: Number(port), directory: dir, silent: true, vhostBuckets: false,
  configureBuckets: [{ name: bucket, configs: [] }] })
  .run().then((a) => console.log(JSON.stringify({ port: a.port })), (e) => { console.error(e); process.exit(1); });
// Orphaned (the test run ended without stopping it): go too, never outlive the run.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500);
`;

export async function spawnS3rver(dir: string, port: number, bucket: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', CHILD, createRequire(import.meta.url).resolve('@20minutes/s3rver'), dir, String(port), bucket], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Its errors reach ours through a pipe of ours, never an inherited descriptor: a child left behind
  // must not hold the test run's output open (CI waits for it to close).
  child.stderr!.pipe(process.stderr, { end: false });
  const bound = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /\{"port":(\d+)\}/.exec(out);
      if (line) resolve(Number(line[1]));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
  return { child, port: bound };
}

export async function killS3rver(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
