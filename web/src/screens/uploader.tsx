/**
 * Drag-and-drop upload onto a case: Uppy's Dashboard over @uppy/tus (resumable, pause/resume,
 * retry; unfinished uploads resume after the browser was closed, by Uppy's stored fingerprints).
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
import type { Locale } from '../i18n/index.js';

export interface UploaderHandle {
  close(): void;
}

export function mountUploader(target: HTMLElement, o: { caseId: string; locale: Locale; note: string; onUploaded: () => void }): UploaderHandle {
  const uppy = new Uppy<{ caseId: string; filename?: string; filetype?: string }, Record<string, never>>({ autoProceed: true, locale: o.locale === 'zh-CN' ? zhCN : enUS, meta: { caseId: o.caseId } })
    .use(Dashboard, {
      inline: true,
      target,
      height: 300,
      width: '100%',
      note: o.note,
      proudlyDisplayPoweredByUppy: false,
      fileManagerSelectionType: 'files',
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
  return { close: () => (fixList.disconnect(), uppy.destroy()) };
}
