import fs from 'node:fs';
import { PageRenderer } from '../../dossier/pages/render/page-renderer.js';
import { pageContent } from '../../ocr/page-content.js';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { cer } from '../../ocr/cer.js';
const r = new PageRenderer();
const e = new TesseractJsEngine({ languages: (process.env.LANGS ?? 'eng').split('+'), workers: 1 });
const truth = fs.readFileSync('../shared/corpus/linn.txt', 'utf8');
for (const f of process.argv.slice(2)) {
  const t = performance.now();
  const c = await pageContent(fs.readFileSync(f), f.endsWith('.pdf') ? 'application/pdf' : 'image/png', r);
  const t1 = performance.now();
  if (c.kind !== 'image') { console.log(f, 'text layer', c.text.slice(0, 80)); continue; }
  const res = await e.recognize(c.image);
  console.log(f.split('/').pop(), `render ${(t1 - t).toFixed(0)} ms, ocr ${(performance.now() - t1).toFixed(0)} ms`, 'rot', res.rotated, 'conf', res.confidence.toFixed(1), 'cer', (cer(res.text, truth) * 100).toFixed(2), JSON.stringify(res.text.slice(0, 60)));
}
await e.close(); await r.close();
