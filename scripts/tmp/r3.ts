import { Piscina } from 'piscina';
const pool = new Piscina({ filename: new URL('../../dossier/pages/render/render-worker.ts', import.meta.url).href });
try { console.log(await pool.run({ pdf: new Uint8Array(10), options: {} })); } catch (e) { console.log('E', e); }
await pool.destroy();
