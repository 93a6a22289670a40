import fs from 'node:fs';
import { chinesePage } from '../bench/fixtures/ocr-pages.js';
fs.writeFileSync('/tmp/probe/zh.png', (await chinesePage()).image);
