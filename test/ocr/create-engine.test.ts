import { expect } from 'chai';
import { configFromEnv } from '../../runtime/config.js';
import { createOcrEngine } from '../../ocr/create-engine.js';

describe('OCR: engine from configuration', () => {
  it('builds tesseract.js by default and the native CLI engine on OCR_ENGINE=tesseract, with the configured languages', async () => {
    const js = createOcrEngine(configFromEnv({ OCR_LANGS: 'chi_sim+eng' }).ocr);
    const native = createOcrEngine(configFromEnv({ OCR_ENGINE: 'tesseract' }).ocr);
    try {
      expect([js.name, js.languages]).to.deep.equal(['tesseract.js', ['chi_sim', 'eng']]);
      expect([native.name, native.languages]).to.deep.equal(['tesseract', ['eng']]);
    } finally {
      await Promise.all([js.close(), native.close()]);
    }
  });
});
