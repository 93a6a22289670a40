import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { chinesePage } from '../bench/fixtures/ocr-pages.js';
const zh = await chinesePage();
for (const langs of [['chi_sim'], ['chi_sim', 'eng']]) {
  const e = new TesseractJsEngine({ languages: langs, workers: 1 });
  const r = await e.recognize(zh.image);
  console.log(langs, r.languages, r.confidence, JSON.stringify(r.text.slice(0, 100)));
  await e.close();
}
