import { expect } from 'chai';
import sharp from 'sharp';
import { blankVerdict } from '../../ocr/blank-page.js';
import { decodeGray, isScaledPage, preparePage, scalePage } from '../../ocr/prepare-image.js';
import { blankFixtures } from '../../scripts/bench/fixtures/blank-pages.js';
import { chinesePage } from '../../scripts/bench/fixtures/ocr-pages.js';
import { renderPage } from '../../scripts/bench/fixtures/synthetic-pages.js';

describe('OCR: one decode for the blank check and the preparation (preparePage)', function () {
  this.timeout(180_000);

  it('gives the standalone check\'s verdict on every generated back and near-empty page', async () => {
    const fixtures = await blankFixtures();
    let found = 0, kept = 0;
    for (const f of fixtures) {
      const ready = await preparePage(f.jpeg);
      expect(ready.blank, f.name).to.equal((await blankVerdict(f.jpeg)).blank);
      expect(ready.blank, f.name).to.equal(f.blank);
      if (f.blank) found += 1; else kept += 1;
      if (!ready.blank) expect(isScaledPage(ready.page)).to.equal(true);
    }
    expect([found, kept]).to.deep.equal([6, 5]);
  });

  it('scales a written page exactly as scalePage does (layout, languages, pixels), dense A4 and Chinese', async () => {
    const zh = await chinesePage();
    const pages: [Buffer, string[]][] = [[await renderPage(2), ['eng']], [await renderPage(7), ['eng']], [zh.image, ['chi_sim', 'eng']]];
    for (const [image, langs] of pages) {
      const ready = await preparePage(image, langs);
      expect(ready.blank).to.equal(false);
      const page = ready.page!;
      const alone = await scalePage(image, langs);
      const { gray, ...rest } = page;
      const { gray: aloneGray, ...aloneRest } = alone;
      expect(rest).to.deep.equal(aloneRest);
      expect(Buffer.compare(Buffer.from(gray), Buffer.from(aloneGray))).to.equal(0);
    }
  });

  it('takes gray raw pixels as they are and decodes colour raw pixels', async () => {
    const jpeg = await renderPage(3);
    const gray = await sharp(jpeg).grayscale().raw().toBuffer({ resolveWithObject: true });
    const raw = { data: gray.data, width: gray.info.width, height: gray.info.height, channels: 1 as const };
    expect((await decodeGray(raw)).data).to.equal(gray.data);
    const rgb = await sharp(jpeg).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const fromRgb = await preparePage({ data: rgb.data, width: rgb.info.width, height: rgb.info.height, channels: rgb.info.channels as 3 });
    expect(fromRgb.blank).to.equal(false);
    expect(fromRgb.page!.input).to.deep.equal({ width: gray.info.width, height: gray.info.height });
  });

  it('refuses bytes that are no image as the recogniser does (corrupt_image)', async () => {
    const err = await preparePage(Buffer.from('not an image')).then(() => null, (e: unknown) => e);
    expect((err as { code?: string } | null)?.code).to.equal('corrupt_image');
  });
});
