import fs from 'node:fs';
import sharp from 'sharp';
import { measureLayout } from '../../ocr/page-layout.js';
const { data, info } = await sharp(fs.readFileSync('../shared/corpus/linn.png')).grayscale().resize({ width: 1600, height: 1600, fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
for (let i = 0; i < 6; i++) { const t = performance.now(); measureLayout(data, info.width, info.height); console.log((performance.now() - t).toFixed(1), 'ms'); }
