import { expect } from 'chai';
import path from 'node:path';
import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import { cer } from '../../ocr/cer.js';
import { scalePage, type DetectOrientation, type Rotation } from '../../ocr/prepare-image.js';
import { DOUBTFUL_CONFIDENCE, readUpright, type ReadPrepared } from '../../ocr/read-upright.js';
import { traineddataFile } from '../../ocr/traineddata.js';
import { meanConfidence, wordsFromTsv } from '../../ocr/tsv.js';
import { englishPage, turned, type KnownPage } from '../../scripts/bench/fixtures/ocr-pages.js';

describe('OCR: orientation detection only when needed', function () {
  this.timeout(120_000);
  let ocr: Worker, osd: Worker, page: KnownPage;
  const detections: Rotation[] = [];

  before(async () => {
    const common = { cacheMethod: 'none', gzip: true, errorHandler: () => {} } as const;
    [ocr, osd] = await Promise.all([
      createWorker('eng', OEM.LSTM_ONLY, { ...common, langPath: path.dirname(traineddataFile('eng')) }),
      createWorker('osd', OEM.TESSERACT_ONLY, { ...common, langPath: path.dirname(traineddataFile('osd')), legacyCore: true, legacyLang: true }),
    ]);
    await ocr.setParameters({ tessedit_pageseg_mode: PSM.AUTO });
    page = await englishPage();
  });
  after(async () => { await Promise.all([ocr.terminate(), osd.terminate()]); });
  beforeEach(() => { detections.length = 0; });

  const read: ReadPrepared = async (prepared) => {
    const { data } = await ocr.recognize(prepared.png, {}, { text: true, tsv: true });
    const words = wordsFromTsv(data.tsv ?? '');
    return { prepared, text: data.text, words, confidence: meanConfidence(words) };
  };
  // The real OSD, with a record of every call.
  const detect: DetectOrientation = async (png) => {
    const { data } = await osd.detect(png);
    detections.push((data.orientation_degrees ?? 0) as Rotation);
    return data.orientation_degrees === null || data.orientation_confidence === null
      ? null : { rotate: data.orientation_degrees as Rotation, confidence: data.orientation_confidence };
  };

  it('reads an upright page without asking OSD', async () => {
    const r = await readUpright(await scalePage(await turned(page, 0)), read, detect);
    expect(detections).to.deep.equal([]);
    expect(r.prepared.rotated).to.equal(0);
    expect(r.confidence).to.be.at.least(DOUBTFUL_CONFIDENCE);
    expect(cer(r.text, page.text)).to.be.at.most(0.02);
  });

  it('asks OSD about a page upside down only after its reading came out doubtful, and keeps the turned reading', async () => {
    const r = await readUpright(await scalePage(await turned(page, 180)), read, detect);
    expect(detections).to.deep.equal([180]);
    expect(r.prepared.rotated).to.equal(180);
    expect(cer(r.text, page.text)).to.be.at.most(0.02);
  });

  it('asks OSD before reading a page whose lines run sideways', async () => {
    const r = await readUpright(await scalePage(await turned(page, 90)), read, detect);
    expect(detections).to.have.length(1);
    expect(r.prepared.rotated).to.equal(270);
    expect(cer(r.text, page.text)).to.be.at.most(0.02);
  });
});
