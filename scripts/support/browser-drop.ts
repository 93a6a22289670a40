/**
 * Drops a folder (and optionally a loose file) on Uppy's Dashboard at once, as Chromium hands a
 * dropped folder to a page: a drop event whose DataTransfer items give FileSystemEntry objects
 * (webkitGetAsEntry), the folder's a directory entry read with createReader().readEntries.
 * Playwright cannot drag from the desktop, so the entries are built in the page over real File
 * objects. The folder's files carry a fixed modification time, as files on a disk do between
 * two drops of the same folder. Used by the browser suites and the web benchmark.
 */
import type { Page } from 'playwright-core';

export interface DroppedFile {
  readonly path: string;
  readonly data: Buffer;
}

export async function dropFolderAndFile(page: Page, name: string, files: readonly DroppedFile[], file?: { name: string; data: Buffer; type: string }): Promise<void> {
  await page.locator('.uppy-Dashboard-inner').waitFor();
  const payload = {
    name,
    files: files.map((f) => ({ path: f.path, b64: f.data.toString('base64') })),
    file: file ? { name: file.name, type: file.type, b64: file.data.toString('base64') } : null,
  };
  // A string, not a function: the test's compiler would add helpers the page does not have.
  await page.evaluate(`(() => {
    const p = ${JSON.stringify(payload)};
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const fileEntry = (f) => ({ isFile: true, isDirectory: false, name: f.name, file: (ok) => ok(f) });
    // A directory entry over { path, file }: each level lists its files and sub-folders once.
    const dirEntry = (dirName, prefix, all) => ({
      isFile: false, isDirectory: true, name: dirName,
      createReader() {
        let read = false;
        return {
          readEntries(ok) {
            if (read) return ok([]);
            read = true;
            const here = all.filter((f) => f.path.startsWith(prefix));
            const rest = here.map((f) => f.path.slice(prefix.length).split('/'));
            const subdirs = [...new Set(rest.filter((s) => s.length > 1).map((s) => s[0]))];
            ok([...here.filter((f) => !f.path.slice(prefix.length).includes('/')).map((f) => fileEntry(f.file)), ...subdirs.map((d) => dirEntry(d, prefix + d + '/', all))]);
          },
        };
      },
    });
    const all = p.files.map((f) => ({ path: f.path, file: new File([bytes(f.b64)], f.path.split('/').pop(), { type: 'image/jpeg', lastModified: 1700000000000 }) }));
    const loose = p.file ? new File([bytes(p.file.b64)], p.file.name, { type: p.file.type }) : null;
    const items = [{ kind: 'file', webkitGetAsEntry: () => dirEntry(p.name, '', all), getAsFile: () => null }];
    if (loose) items.push({ kind: 'file', webkitGetAsEntry: () => fileEntry(loose), getAsFile: () => loose });
    const dataTransfer = { types: ['Files'], items, files: loose ? [loose] : [], dropEffect: 'copy' };
    const inner = document.querySelector('.uppy-Dashboard-inner');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      const ev = new DragEvent(type, { bubbles: true, cancelable: true });
      Object.defineProperty(ev, 'dataTransfer', { value: dataTransfer });
      inner.dispatchEvent(ev);
    }
  })()`);
}
