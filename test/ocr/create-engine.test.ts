import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { configFromEnv } from '../../runtime/config.js';
import { createOcrEngine } from '../../ocr/create-engine.js';
import { chooseEngine } from '../../ocr/choose-engine.js';
import { DEBIAN_TESSDATA, availableLanguages, folderServes, resolveModelSource, tessdataFolder } from '../../ocr/model-source.js';
import { NATIVE_TESSERACT } from '../../ocr/native-tesseract-engine.js';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { testEnv } from '../support/env.js';

const debian = fs.existsSync(DEBIAN_TESSDATA) && fs.existsSync(NATIVE_TESSERACT);

describe('OCR: models and engine from configuration', () => {
  let empty: string;
  let own: string;
  before(() => {
    empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdata-empty-'));
    // A folder of our own with eng and osd only (plain files, as OCR_TESSDATA_DIR wants them).
    own = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdata-own-'));
    for (const l of ['eng', 'osd']) fs.writeFileSync(path.join(own, `${l}.traineddata`), 'model');
  });
  after(() => {
    fs.rmSync(empty, { recursive: true, force: true });
    fs.rmSync(own, { recursive: true, force: true });
  });

  it('reads a folder only when it holds every language and osd; else the npm packages', () => {
    expect(folderServes(own, ['eng'])).to.equal(true);
    expect(folderServes(own, ['chi_sim', 'eng'])).to.equal(false);
    expect(folderServes(own, ['../eng'])).to.equal(false);
    expect(resolveModelSource(own, ['eng'])).to.deep.equal({ kind: 'folder', dir: own });
    expect(resolveModelSource(own, ['chi_sim', 'eng'])).to.deep.equal({ kind: 'npm' });
    expect(resolveModelSource(null, ['eng'])).to.deep.equal({ kind: 'npm' });
    expect(availableLanguages(own)).to.include.members(['eng', 'chi_sim']);
    expect(tessdataFolder(own)).to.equal(own);
    expect(tessdataFolder(null)).to.equal(fs.existsSync(DEBIAN_TESSDATA) ? DEBIAN_TESSDATA : null);
  });

  it('auto prefers the native CLI where binary and folder serve the languages, tesseract.js elsewhere', () => {
    const nowhere = path.join(empty, 'no-tesseract');
    expect(chooseEngine({ setting: 'auto', languages: ['eng'], folder: own, binary: NATIVE_TESSERACT })).to.deep.equal(
      fs.existsSync(NATIVE_TESSERACT) ? { engine: 'tesseract', models: { kind: 'folder', dir: own } } : { engine: 'tesseract.js', models: { kind: 'folder', dir: own } },
    );
    expect(chooseEngine({ setting: 'auto', languages: ['eng'], folder: own, binary: nowhere })).to.deep.equal({ engine: 'tesseract.js', models: { kind: 'folder', dir: own } });
    // A plain npm install: no binary, no folder. tesseract.js with the packaged models.
    expect(chooseEngine({ setting: 'auto', languages: ['chi_sim', 'eng'], folder: null, binary: nowhere })).to.deep.equal({ engine: 'tesseract.js', models: { kind: 'npm' } });
    expect(chooseEngine({ setting: 'tesseract.js', languages: ['eng'], folder: empty, binary: NATIVE_TESSERACT })).to.deep.equal({ engine: 'tesseract.js', models: { kind: 'npm' } });
    expect(chooseEngine({ setting: 'tesseract', languages: ['eng'], folder: empty, binary: NATIVE_TESSERACT })).to.be.a('string').that.matches(/tessdata|tesseract-ocr/);
    expect(chooseEngine({ setting: 'auto', languages: ['klingon'], folder: own, binary: nowhere })).to.be.a('string').that.matches(/klingon/);
  });

  it('builds the configured engine with the configured languages and models', async function () {
    const js = createOcrEngine(configFromEnv({ OCR_ENGINE: 'tesseract.js', OCR_LANGS: 'chi_sim+eng', OCR_TESSDATA_DIR: empty }).ocr);
    const auto = createOcrEngine(configFromEnv({}).ocr);
    try {
      expect([js.name, js.languages, (js as TesseractJsEngine).models]).to.deep.equal(['tesseract.js', ['chi_sim', 'eng'], { kind: 'npm' }]);
      expect(auto.name).to.equal(debian ? 'tesseract' : 'tesseract.js');
    } finally {
      await Promise.all([js.close(), auto.close()]);
    }
    if (!debian) {
      if (testEnv.ci) throw new Error('CI: Debian tesseract-ocr-eng/osd must be installed');
      console.log('      (skipped: Debian tesseract + tessdata absent, auto = native not checked)');
      this.skip();
    }
    const folder = createOcrEngine(configFromEnv({ OCR_ENGINE: 'tesseract.js' }).ocr) as TesseractJsEngine;
    try {
      expect(folder.models).to.deep.equal({ kind: 'folder', dir: DEBIAN_TESSDATA });
    } finally {
      await folder.close();
    }
  });
});
