import fs from 'node:fs';
import sharp from 'sharp';
import { PageRenderer } from '../../dossier/pages/render/page-renderer.js';
import { pageContent } from '../../ocr/page-content.js';
import { scalePage } from '../../ocr/prepare-image.js';
const r = new PageRenderer();
for (const f of process.argv.slice(2)) {
  const c = await pageContent(fs.readFileSync(f), 'application/pdf', r);
  if (c.kind !== 'image') continue;
  const s = await scalePage(c.image);
  console.log(f, s.width, s.height, s.scale, s.axis, s.lineHeight, s.dpi);
  await sharp(s.gray, { raw: { width: s.width, height: s.height, channels: 1 } }).png().toFile(`/tmp/probe/scaled-${f.split('/').pop()}.png`);
}
await r.close();
