/**
 * A bare @tus/server with its @tus/file-store, nothing else (no auth, no hashing, no database), in
 * a process of its own: the yardstick for the gateway's upload. Prints its URL on stdout.
 *
 *   node --import tsx scripts/bench/bare-tus.ts <directory>
 */
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const directory = process.argv[2];
if (!directory) throw new Error('usage: bare-tus <directory>');
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) });
const server = http.createServer((req, res) => void tus.handle(req, res));
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(`http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
