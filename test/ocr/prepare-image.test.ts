import { expect } from 'chai';
import sharp from 'sharp';
import { chooseScale, CJK_BAND, decideRotation, LATIN_BAND, lineBand, prepareImage, scalePage, toInputBox, turnPage, type PreparedImage, type Rotation } from '../../ocr/prepare-image.js';
import { cer, normaliseForCer } from '../../ocr/cer.js';
import { englishPage, turnBox, turned } from '../../scripts/bench/fixtures/ocr-pages.js';

const noOsd = async () => null;

describe('OCR: image preparation', () => {
  it('leaves text in the line-height band alone, scales small text up and large text down', async () => {
    const page = await englishPage();
    const same = await prepareImage(page.image, noOsd);
    expect(same.lineHeight).to.be.within(LATIN_BAND.min, LATIN_BAND.max);
    expect(same.scale).to.equal(1);
    expect(same.rotated).to.equal(0);
    const gray = await sharp(same.png).metadata();
    expect([gray.channels, gray.width, gray.height]).to.deep.equal([1, page.width, page.height]);

    const big = await prepareImage(await sharp(page.image).resize(page.width * 3).png().toBuffer(), noOsd);
    expect(big.scale).to.be.below(0.6);
    expect(big.lineHeight! * big.scale).to.be.within(LATIN_BAND.min, LATIN_BAND.max);

    const small = await prepareImage(await sharp(page.image).resize(Math.round(page.width * 0.6)).png().toBuffer(), noOsd);
    expect(small.scale).to.be.above(1);
    // Small text goes up further than the band: it reads better with room (prepare-image.ts).
    expect(small.lineHeight! * small.scale).to.be.closeTo(LATIN_BAND.up, 1);
  });

  it('keeps CJK pages in a wider band than Latin ones', () => {
    expect(lineBand(['eng'])).to.equal(LATIN_BAND);
    expect(lineBand(['chi_sim', 'eng'])).to.equal(CJK_BAND);
    expect(chooseScale(30, 1240, 1754, LATIN_BAND) * 30).to.be.closeTo(LATIN_BAND.down, 0.1);
    expect(chooseScale(30, 1240, 1754, CJK_BAND)).to.equal(1);
  });

  it('does not blow up a page whose lines cannot be measured beyond the pixel budget', () => {
    expect(chooseScale(null, 12000, 16000)).to.be.below(0.3);
    expect(chooseScale(null, 1000, 1400)).to.equal(1);
    expect(chooseScale(2, 20000, 20000) * 20000).to.be.at.most(6400);
  });

  it('turns the page as OSD says only when OSD is sure or the line direction agrees', () => {
    expect(decideRotation({ rotate: 180, confidence: 9 }, 'rows')).to.equal(180);
    expect(decideRotation({ rotate: 90, confidence: 2 }, 'columns')).to.equal(90);
    expect(decideRotation({ rotate: 90, confidence: 9 }, 'rows')).to.equal(0);
    expect(decideRotation({ rotate: 270, confidence: 0.8 }, 'columns')).to.equal(0);
    expect(decideRotation(null, 'rows')).to.equal(0);
  });

  it('turns the page upright with the detector and measures the line axis of a sideways page', async () => {
    const page = await englishPage();
    const input = await turned(page, 90);
    let detected = false;
    const prepared = await prepareImage(input, async () => { detected = true; return { rotate: 270, confidence: 3 }; });
    expect(detected).to.equal(true);
    expect(prepared.rotated).to.equal(270);
    expect([prepared.width, prepared.height]).to.deep.equal([page.width, page.height]);
  });

  for (const r of [0, 90, 180, 270] as Rotation[]) {
    it(`maps boxes on a page turned ${r}° and scaled back to the input's pixels`, () => {
      const input = { width: 1000, height: 600 };
      const scale = 1.5;
      const W = input.width * scale, H = input.height * scale;
      const p: PreparedImage = { png: Buffer.alloc(0), width: r % 180 ? H : W, height: r % 180 ? W : H, input, scale, rotated: r, lineHeight: 20, deskew: null, languages: ['eng'], configured: ['eng'] };
      const original: [number, number, number, number] = [100, 50, 200, 30];
      // The box as it lies on the prepared image: scaled, then turned with the page.
      const onPrepared = turnBox(original.map((v) => v * scale) as [number, number, number, number], r, W, H);
      expect(toInputBox(onPrepared, p)).to.deep.equal(original);
    });
  }

  it('maps boxes on a deskewed page back through the skew: a word drawn askew lands around its ink', async () => {
    // A page with one black bar sloping 3 degrees down to the right, like a line fed in askew.
    const width = 1200, height = 800;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>` +
      Array.from({ length: 12 }, (_, i) => `<rect x="150" y="${120 + i * 48}" width="900" height="20" fill="#000" transform="rotate(3 600 ${130 + i * 48})"/>`).join('') + '</svg>';
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    const page = await scalePage(png);
    expect(page.deskew?.degrees).to.be.closeTo(3, 0.51);
    const prepared = await turnPage(page, 0);
    // The straightened first bar, found on the prepared image, maps back around the askew bar.
    const { data, info } = await sharp(prepared.png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    let top = info.height, bottom = 0, left = info.width, right = 0;
    for (let y = 0; y < info.height; y++) for (let x = 0; x < info.width; x++) {
      if (data[y * info.width + x]! < 128 && y < top + 40) { top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x); }
    }
    const [x, y, w, h] = toInputBox([left, top, right - left, bottom - top], prepared);
    // The askew bar spans x 150..1050 and, sloping 3 degrees, y ~100..170 on the input page.
    expect(x).to.be.closeTo(150, 12);
    expect(x + w).to.be.closeTo(1050, 12);
    expect(y).to.be.within(90, 125);
    expect(y + h).to.be.within(150, 190);
  });
});

describe('OCR: character error rate', () => {
  it('collapses whitespace for Latin text and removes it for CJK', () => {
    expect(cer('The  quick\nbrown fox', 'The quick brown fox')).to.equal(0);
    expect(cer('The quick brown fax', 'The quick brown fox')).to.be.closeTo(1 / 19, 1e-9);
    expect(cer('案件 编号 二 零', '案件编号二零')).to.equal(0);
    expect(cer('案件编号二', '案件编号二零')).to.be.closeTo(1 / 6, 1e-9);
    expect(normaliseForCer('ﬁle  Ａ', false)).to.equal('file A');
  });

  it('counts case and punctuation, and an empty truth', () => {
    expect(cer('the', 'The')).to.be.closeTo(1 / 3, 1e-9);
    expect(cer('', '')).to.equal(0);
    expect(cer('x', '')).to.equal(1);
  });
});
