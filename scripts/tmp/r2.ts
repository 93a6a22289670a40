import fs from 'node:fs';
import sharp from 'sharp';
import { PageRenderer, OCR_RENDER } from '../../dossier/pages/render/page-renderer.ts';
const r = new PageRenderer();
for (const f of process.argv.slice(2)) {
  const t = performance.now();
  try {
    const p = await r.render(fs.readFileSync(f), 'application/pdf', OCR_RENDER);
    console.log(f.split('/').pop(), p.width, p.height, p.dpi, p.omittedImages, p.by, (performance.now() - t).toFixed(0), 'ms', (process.memoryUsage().rss/1e6).toFixed(0));
    await sharp(p.pixels, { raw: { width: p.width, height: p.height, channels: p.channels } }).resize(600).png().toFile('/tmp/probe/' + f.split('/').pop() + '.png');
  } catch (e) { console.log(f, 'ERR', (e as any).code, (e as Error).message); }
}
await r.close();
