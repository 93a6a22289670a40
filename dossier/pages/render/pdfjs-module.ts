/**
 * pdfjs-dist's legacy build without its side effect on the process: the core-js it bundles replaces
 * the global JSON.stringify and JSON.parse (forced on Node 20, which lacks JSON.rawJSON), and the
 * replacement stringify is about six times slower (measured: 100,000 small objects, 0.85 s native,
 * 5.2 s replaced) for every module of the process, not only pdf.js: the gateway's responses,
 * canonical JSON of what it signs, job payloads; the CLI's journal and report. Every import of
 * pdf.js goes through here; native-json.js is evaluated first and keeps the engine's functions.
 */
import { restoreNativeJson } from './native-json.js';
import * as pdfjs from 'pdfjs-dist/legacy/build/pdf.mjs';

restoreNativeJson();

export const { getDocument, OPS, Util } = pdfjs;
