/** Index terms (CJK bigrams, words, NFKC), query literals against a real PGlite, and snippets. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { indexTerms, queryPhrases, tsqueryLiteral, tsvectorLiteral } from '../ocr/index-terms.js';
import { snippet } from '../ocr/snippet.js';
import { openPglite } from '../storage/db/pglite-database.js';
import type { Database } from '../storage/db/database.js';

describe('index terms', () => {
  it('splits a CJK run into overlapping bigrams and ends with its last character', () => {
    expect(indexTerms('人民法院')).to.deep.equal(['人民', '民法', '法院', '院']);
    expect(indexTerms('案')).to.deep.equal(['案']);
  });

  it('keeps words whole, lower-cased, and separates them from CJK runs', () => {
    expect(indexTerms('Plate ABC-1234 属于张三 in Lyon')).to.deep.equal(['plate', 'abc', '1234', '属于', '于张', '张三', '三', 'in', 'lyon']);
    expect(indexTerms('Müller straße')).to.deep.equal(['müller', 'straße']);
  });

  it('normalises with NFKC: full-width Latin and digits, compatibility ideographs', () => {
    expect(indexTerms('ＡＢＣ１２３')).to.deep.equal(['abc123']);
    expect(indexTerms('\uF900')).to.deep.equal(['\u8C48']); // CJK compatibility ideograph → unified
    expect(indexTerms('ﬁle')).to.deep.equal(['file']);
  });

  it('joins a CJK run across the spaces OCR puts between Han characters', () => {
    expect(indexTerms('北京 市 朝阳 区')).to.deep.equal(['北京', '京市', '市朝', '朝阳', '阳区', '区']);
    expect(indexTerms('张三 Lyon 李四')).to.deep.equal(['张三', '三', 'lyon', '李四', '四']);
  });

  it('counts CJK characters beyond the BMP as one character', () => {
    expect(indexTerms('𠀀𠀁')).to.deep.equal(['𠀀𠀁', '𠀁']);
  });

  it('makes phrases of hyphenated words and CJK runs, ANDs the chunks', () => {
    expect(tsqueryLiteral('EXHIBIT-00042-AB')).to.equal("('exhibit' <-> '00042' <-> 'ab')");
    expect(tsqueryLiteral('人民法院 lyon')).to.equal("('人民' <-> '民法' <-> '法院') & 'lyon'");
    expect(tsqueryLiteral('法')).to.equal("'法':*");
    expect(tsqueryLiteral('张三abc')).to.equal("('张三' <-> '三' <-> 'abc')");
    expect(tsqueryLiteral(' !?… ')).to.equal(null);
    expect(queryPhrases('a b')).to.have.length(2);
  });

  it('quotes lexemes so that no query text is read as tsquery syntax', () => {
    expect(tsvectorLiteral("o'brien")).to.equal("'o':1 'brien':2");
    expect(tsqueryLiteral("x' | 'y")).to.equal("'x' & 'y'");
  });
});

describe('index terms in PostgreSQL (PGlite)', function () {
  this.timeout(60_000);
  let db: Database;
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'terms-'));
    db = await openPglite(dir);
  });
  after(async () => {
    await db.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const matches = async (text: string, q: string): Promise<boolean> => {
    const rows = await db.query<{ m: boolean }>('SELECT $1::tsvector @@ $2::tsquery AS m', [tsvectorLiteral(text), tsqueryLiteral(q)!]);
    return rows[0]!.m;
  };

  it('finds Chinese words of 1 to 4 characters anywhere in a run, and not across punctuation', async () => {
    const text = '中华人民共和国最高人民法院，审理了张三的案件';
    for (const q of ['人民', '法院', '人民法院', '共和国', '最', '国', '张三', '案件', '件']) expect(await matches(text, q), q).to.equal(true);
    for (const q of ['法人', '院审', '民院', '王五']) expect(await matches(text, q), q).to.equal(false);
  });

  it('finds Latin words case- and width-insensitively, phrases only in order', async () => {
    const text = 'Exhibit reference EXHIBIT-00042-KP, plate ＡＢＣ-1234.';
    expect(await matches(text, 'exhibit-00042-kp')).to.equal(true);
    expect(await matches(text, 'abc-1234')).to.equal(true);
    expect(await matches(text, 'reference plate')).to.equal(true);
    expect(await matches(text, 'kp-00042')).to.equal(false);
    expect(await matches(text, 'exhibit-00043-kp')).to.equal(false);
  });

  it('finds Chinese words in OCR output that spaces its characters', async () => {
    expect(await matches('被 告 人 在 北京 市 朝阳 区', '北京市朝阳区')).to.equal(true);
    expect(await matches('被 告 人 在 北京 市 朝阳 区', '告人')).to.equal(true);
  });

  it('matches mixed runs where Latin and CJK touch', async () => {
    expect(await matches('车牌ABC1234属于他', '牌abc1234属')).to.equal(true);
    expect(await matches('车牌ABC1234属于他', 'abc1234属于')).to.equal(true);
  });
});

describe('snippets', () => {
  it('marks the match and keeps the text around it short', () => {
    const text = `${'filler words here. '.repeat(30)}The plate EXHIBIT-00042-KP was seized. ${'more text follows. '.repeat(30)}`;
    const s = snippet(text, 'exhibit-00042-kp');
    expect(s).to.include('<mark>EXHIBIT-00042-KP</mark>');
    expect(s.startsWith('…')).to.equal(true);
    expect(s.endsWith('…')).to.equal(true);
    expect(s.length).to.be.lessThan(220);
  });

  it('marks CJK matches and escapes the page text', () => {
    expect(snippet('被告<张三>在人民法院', '人民法院')).to.equal('被告&lt;张三&gt;在<mark>人民法院</mark>');
    expect(snippet('a & b lyon', 'LYON')).to.equal('a &amp; b <mark>lyon</mark>');
  });

  it('marks a Chinese word across the spaces OCR left in it', () => {
    expect(snippet('被 告 人 在 北京 市', '北京市')).to.equal('被 告 人 在 <mark>北京 市</mark>');
  });

  it('falls back to the page start when nothing matches literally', () => {
    expect(snippet('short page', 'zzz')).to.equal('short page');
  });
});
