import sharp from 'sharp';
import { measureLayout } from '../../ocr/page-layout.js';
import { chinesePage } from '../bench/fixtures/ocr-pages.js';
const zh = await chinesePage();
const { data, info } = await sharp(zh.image).grayscale().raw().toBuffer({ resolveWithObject: true });
console.log(info.width, info.height, info.channels, measureLayout(data, info.width, info.height));
const b = await sharp(zh.image).grayscale().resize({ width: 1600, height: 1600, fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
console.log(b.info.width, b.info.height, b.info.channels, measureLayout(b.data, b.info.width, b.info.height));
