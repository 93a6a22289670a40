import fs from 'node:fs';
import sharp from 'sharp';
import { measureLayout } from '../../ocr/page-layout.js';
import { pageScript } from '../../ocr/script.js';
import { englishPage, chinesePage, renderTextLines, CHINESE_LINES } from '../bench/fixtures/ocr-pages.js';
import { PageRenderer, OCR_RENDER } from '../../dossier/pages/render/page-renderer.js';
const r = new PageRenderer();
const items: [string, any][] = [['en', (await englishPage()).image], ['zh', (await chinesePage()).image],
  ['zh+latin', await renderTextLines(CHINESE_LINES.map((l, i) => `${l} 2026-0417 No.${i}`), 'WenQuanYi Zen Hei')],
  ['zh 180', await sharp((await chinesePage()).image).rotate(180).png().toBuffer()], ['zh 90', await sharp((await chinesePage()).image).rotate(90).png().toBuffer()], ['en 90', await sharp((await englishPage()).image).rotate(90).png().toBuffer()]];
for (const f of ['linn.png', 'typewriter.png', 'baiona.png']) items.push([f, fs.readFileSync('../shared/corpus/' + f)]);
for (const f of ['c02-22.pdf', 'francais.pdf', 'ccitt.pdf', 'kcs.pdf', 'epson.pdf', '2400dpi.pdf', 'skew.pdf', 'rotated_skew.pdf', 'masks.pdf', 'palette.pdf', 'lichtenstein.pdf', 'cmyk.pdf']) {
  const p = await r.render(fs.readFileSync('../shared/corpus/' + f), 'application/pdf', OCR_RENDER);
  items.push([f, { data: p.pixels, width: p.width, height: p.height, channels: p.channels }]);
}
for (const [name, img] of items) {
  const input = Buffer.isBuffer(img) ? sharp(img) : sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  const { data, info } = await input.grayscale().resize({ width: 1600, height: 1600, fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
  const t = performance.now();
  const l = measureLayout(data, info.width, info.height);
  console.log(name.padEnd(16), l.axis, String(l.lines).padStart(3), 'glyph', l.glyphWidth?.toFixed(2), 'ink', l.centralInk?.toFixed(3), '→', pageScript(l), `${(performance.now() - t).toFixed(0)} ms`);
}
await r.close();
