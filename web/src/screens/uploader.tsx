/**
 * Drag-and-drop upload onto a case: Uppy's Dashboard over @uppy/tus (resumable, pause/resume,
 * retry; unfinished uploads resume after the browser was closed, by Uppy's stored fingerprints).
 * Files are dossiers each; a dropped folder's page images become one dossier (folder-zip.ts).
 * Loaded only when a case page needs it, so the first load stays small.
 */
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import Tus from '@uppy/tus';
import zhCN from '@uppy/locales/lib/zh_CN.js';
import enUS from '@uppy/locales/lib/en_US.js';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import { csrfHeaders } from '../api.js';
import { folderZip, isPageImage, type FolderFile } from '../folder-zip.js';
import type { Locale } from '../i18n/index.js';

export interface UploaderHandle {
  close(): void;
}

type Meta = { caseId: string; filename?: string; filetype?: string; relativePath?: string | null };

export function mountUploader(target: HTMLElement, o: { caseId: string; locale: Locale; note: string; onUploaded: () => void; onFolderError: (folder: string, err: Error) => void }): UploaderHandle {
  // Page images that came in a folder are held back here and packed into the folder's one ZIP
  // once the drop has been read (Uppy adds a drop's files in one synchronous pass).
  const folders = new Map<string, FolderFile[]>();
  let packing: ReturnType<typeof setTimeout> | undefined;
  const packFolders = () => {
    const ready = [...folders];
    folders.clear();
    for (const [folder, files] of ready) {
      folderZip(folder, files).then(
        (zip) => uppy.addFile({ name: zip.name, type: zip.type, data: zip, source: 'folder', meta: { caseId: o.caseId } }),
        (err: Error) => o.onFolderError(folder, err),
      );
    }
  };
  const uppy = new Uppy<Meta, Record<string, never>>({
    autoProceed: true,
    locale: o.locale === 'zh-CN' ? zhCN : enUS,
    meta: { caseId: o.caseId },
    onBeforeFileAdded: (file) => {
      const [folder, ...rest] = (file.meta.relativePath ?? '').split('/').filter(Boolean);
      if (!folder || rest.length === 0 || !(file.data instanceof File)) return true; // a file, not in a folder
      // A PDF or ZIP inside a folder is a dossier of its own (as migrate plans it); junk is left out.
      if (!isPageImage(file.data, rest.join('/'))) return /\.(pdf|zip)$/i.test(file.data.name) && !rest.some((s) => s.startsWith('.'));
      folders.set(folder, [...(folders.get(folder) ?? []), { file: file.data, path: rest.join('/') }]);
      clearTimeout(packing);
      packing = setTimeout(packFolders, 0);
      return false;
    },
  })
    .use(Dashboard, {
      inline: true,
      target,
      height: 300,
      width: '100%',
      note: o.note,
      proudlyDisplayPoweredByUppy: false,
      fileManagerSelectionType: 'both',
    })
    .use(Tus, {
      endpoint: '/files/',
      // The session's CSRF token on every tus request (POST, PATCH, DELETE are state-changing).
      headers: () => csrfHeaders(),
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000],
      allowedMetaFields: ['filename', 'caseId', 'filetype'],
    });
  // Uppy 6's Dashboard lists a single file as role=listitem without a role=list parent (an ARIA
  // error axe reports as critical): give that container its role.
  const fixList = new MutationObserver(() => {
    for (const el of target.querySelectorAll('.uppy-Dashboard-files:not([role])')) el.setAttribute('role', 'list');
  });
  fixList.observe(target, { childList: true, subtree: true });
  uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { filename: file.name ?? 'upload', filetype: file.type ?? '', caseId: o.caseId }));
  uppy.on('upload-success', () => o.onUploaded());
  return { close: () => (clearTimeout(packing), fixList.disconnect(), uppy.destroy()) };
}
