import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { scalePage } from '../../ocr/prepare-image.js';
import { chinesePage, englishPage } from '../bench/fixtures/ocr-pages.js';
import { cer } from '../../ocr/cer.js';
const zh = await chinesePage(), en = await englishPage();
const s = await scalePage(zh.image, ['chi_sim', 'eng']);
console.log('scaled', s.languages, s.lineHeight, s.scale);
const e = new TesseractJsEngine({ languages: ['chi_sim', 'eng'], workers: 1 });
for (const img of [zh.image, en.image, zh.image, zh.image]) {
  const r = await e.recognize(img);
  console.log(r.languages, r.confidence.toFixed(1), (cer(r.text, img === zh.image ? zh.text : en.text) * 100).toFixed(2), JSON.stringify(r.text.slice(0, 20)));
}
await e.close();
