import fs from 'node:fs';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { NativeTesseractEngine } from '../../ocr/native-tesseract-engine.js';
import { cer } from '../../ocr/cer.js';
import { englishPage, chinesePage } from '../bench/fixtures/ocr-pages.js';
const en = await englishPage(), zh = await chinesePage();
const linn = { image: fs.readFileSync('../shared/corpus/linn.png'), text: fs.readFileSync('../shared/corpus/linn.txt', 'utf8') };
const mk = (kind: string, langs: string[]) => kind === 'js' ? new TesseractJsEngine({ languages: langs, workers: 1 }) : new NativeTesseractEngine({ languages: langs, workers: 1 });
for (const kind of (process.env.KINDS ?? 'js').split(',')) for (const langs of [['eng'], ['chi_sim'], ['chi_sim', 'eng']]) {
  const e = mk(kind, langs);
  await e.recognize(en.image); // warm
  for (const [name, p] of [['en', en], ['zh', zh], ['linn', linn]] as const) {
    if (langs.length === 1 && (name === 'zh') !== (langs[0] === 'chi_sim')) continue;
    const t = performance.now();
    const r = await e.recognize(p.image);
    console.log(kind, langs.join('+').padEnd(12), name.padEnd(5), `${(performance.now() - t).toFixed(0)} ms`, 'read with', r.languages.join('+'), 'CER', (cer(r.text, p.text) * 100).toFixed(2), r.confidence.toFixed(1), JSON.stringify(r.text.slice(0, 30)));
  }
  await e.close();
}
