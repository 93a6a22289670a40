/**
 * The engine's own JSON.stringify and JSON.parse, taken before anything can replace them (see
 * pdfjs-module.ts, which imports this module first for that reason).
 */
const { stringify, parse } = JSON;

/** Puts the engine's JSON functions back where a library replaced them. */
export function restoreNativeJson(): void {
  JSON.stringify = stringify;
  JSON.parse = parse;
}
