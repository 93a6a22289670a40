import { expect } from 'chai';
import sharp from 'sharp';
import { blankVerdict } from '../../ocr/blank-page.js';
import { blankFixtures, type BlankFixture } from '../../scripts/bench/fixtures/blank-pages.js';
import { PAGE_HEIGHT, PAGE_WIDTH, renderPage } from '../../scripts/bench/fixtures/synthetic-pages.js';

describe('OCR: blank pages (empty duplex backs) found without the recogniser', function () {
  this.timeout(120_000);
  let fixtures: BlankFixture[];
  before(async () => {
    fixtures = await blankFixtures();
  });

  it('finds every empty back (paper noise, edge shadows, uneven light, bleed-through, dust) blank', async () => {
    const backs = fixtures.filter((f) => f.blank);
    expect(backs).to.have.length.of.at.least(6);
    for (const f of backs) expect((await blankVerdict(f.jpeg)).blank, f.name).to.equal(true);
  });

  it('keeps every near-empty page (a few faint words, a signature, a page number) for OCR', async () => {
    const near = fixtures.filter((f) => !f.blank);
    expect(near).to.have.length.of.at.least(5);
    for (const f of near) {
      const v = await blankVerdict(f.jpeg);
      expect(v.blank, `${f.name}: ${JSON.stringify(v)}`).to.equal(false);
    }
  });

  it('keeps a dense written page, from JPEG bytes and from raw pixels (a rendered PDF page)', async () => {
    const jpeg = await renderPage(2);
    expect((await blankVerdict(jpeg)).blank).to.equal(false);
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect((await blankVerdict({ data, width: info.width, height: info.height, channels: info.channels as 1 | 3 })).blank).to.equal(false);
    const back = fixtures.find((f) => f.blank)!;
    const raw = await sharp(back.jpeg).raw().toBuffer({ resolveWithObject: true });
    expect((await blankVerdict({ data: raw.data, width: raw.info.width, height: raw.info.height, channels: raw.info.channels as 1 | 3 })).blank).to.equal(true);
  });

  it('never calls a dark page or a photograph blank, though it has no strokes', async () => {
    const black = await sharp({ create: { width: PAGE_WIDTH, height: PAGE_HEIGHT, channels: 3, background: '#101010' } }).jpeg().toBuffer();
    expect((await blankVerdict(black)).blank).to.equal(false);
    // A smooth gradient from dark to light: no edges, all "picture".
    const gradient = Buffer.alloc(PAGE_WIDTH * PAGE_HEIGHT);
    for (let y = 0; y < PAGE_HEIGHT; y++) gradient.fill(Math.round((y / PAGE_HEIGHT) * 255), y * PAGE_WIDTH, (y + 1) * PAGE_WIDTH);
    const photo = await sharp(gradient, { raw: { width: PAGE_WIDTH, height: PAGE_HEIGHT, channels: 1 } }).jpeg().toBuffer();
    expect((await blankVerdict(photo)).blank).to.equal(false);
  });

  it('refuses bytes that are no image (the recogniser path reports them)', async () => {
    expect(await blankVerdict(Buffer.from('not an image')).then(() => 'read', () => 'refused')).to.equal('refused');
  });
});
