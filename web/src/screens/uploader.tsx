/**
 * Drag-and-drop upload onto a case: Uppy's Dashboard over @uppy/tus (resumable, pause/resume,
 * retry; unfinished uploads resume after the browser was closed, by Uppy's stored fingerprints,
 * which name the user and the case: unfinished-uploads.ts).
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
import { TUS_ENDPOINT, uploadsId } from '../unfinished-uploads.js';

export interface UploaderHandle {
  /** Leaves every unfinished upload on the server (and remembered here) for a later resume. */
  close(): void;
  setLocale(locale: Locale, note: string): void;
}

/** An upload continued where the server stopped (after a pause, a failure, or the browser closed). */
export interface ResumedUpload {
  readonly name: string;
  readonly received: number;
  readonly size: number;
}

type Meta = { caseId: string; filename?: string; filetype?: string; relativePath?: string | null };

export interface UploaderOptions {
  readonly user: string;
  readonly caseId: string;
  readonly locale: Locale;
  readonly note: string;
  /** A file's first bytes went out: its dossier exists (receiving) on the server. */
  readonly onStarted: () => void;
  readonly onUploaded: () => void;
  readonly onResumed: (r: ResumedUpload) => void;
  readonly onFolderError: (folder: string, err: Error) => void;
}

const localeOf = (l: Locale) => (l === 'zh-CN' ? zhCN : enUS);

export function mountUploader(target: HTMLElement, o: UploaderOptions): UploaderHandle {
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
  // tus-js-client asks the server's offset (HEAD) only when it continues a known upload.
  const resuming = new Map<string, { name: string; size: number }>();
  const uppy = new Uppy<Meta, Record<string, never>>({
    id: uploadsId(o.user, o.caseId),
    autoProceed: true,
    locale: localeOf(o.locale),
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
      endpoint: TUS_ENDPOINT,
      // The session's CSRF token on every tus request (POST, PATCH, DELETE are state-changing).
      headers: () => csrfHeaders(),
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000],
      allowedMetaFields: ['filename', 'caseId', 'filetype'],
      // A sealed upload is forgotten: dropping the same file again later is a new dossier.
      removeFingerprintOnSuccess: true,
      onBeforeRequest: (req, file) => {
        if (req.getMethod() === 'HEAD') resuming.set(req.getURL(), { name: file.name ?? '', size: file.size ?? 0 });
      },
      onAfterResponse: (req, res) => {
        const file = req.getMethod() === 'HEAD' ? resuming.get(req.getURL()) : undefined;
        if (!file) return;
        resuming.delete(req.getURL());
        const received = Number(res.getHeader('Upload-Offset'));
        if (res.getStatus() === 200 && received > 0 && received < file.size) o.onResumed({ name: file.name, received, size: file.size });
      },
    });
  // Uppy 6's Dashboard lists a single file as role=listitem without a role=list parent (an ARIA
  // error axe reports as critical): give that container its role.
  const fixList = new MutationObserver(() => {
    for (const el of target.querySelectorAll('.uppy-Dashboard-files:not([role])')) el.setAttribute('role', 'list');
  });
  fixList.observe(target, { childList: true, subtree: true });
  uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { filename: file.name ?? 'upload', filetype: file.type ?? '', caseId: o.caseId }));
  const started = new Set<string>();
  uppy.on('upload-progress', (file) => {
    if (!file || started.has(file.id)) return;
    started.add(file.id);
    o.onStarted();
  });
  uppy.on('upload-success', () => o.onUploaded());
  return {
    setLocale(l, note) {
      uppy.setOptions({ locale: localeOf(l) });
      uppy.getPlugin('Dashboard')?.setOptions({ note });
    },
    close() {
      clearTimeout(packing);
      fixList.disconnect();
      // Uppy's destroy cancels every file, and the tus plugin answers a cancel with a DELETE of
      // the upload on the server: leaving the case page would throw the bytes sent away. Its
      // uploads are stopped first without termination and taken from the plugin, so the
      // cancel finds nothing to delete.
      const tus = uppy.getPlugin<Tus<Meta, Record<string, never>>>('Tus');
      for (const [id, upload] of Object.entries(tus?.uploaders ?? {})) {
        void upload?.abort(false);
        tus!.uploaders[id] = null;
      }
      uppy.destroy();
    },
  };
}
