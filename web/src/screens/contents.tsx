/**
 * The dossier's table of contents from its own structure: the folders of the upload (a ZIP's
 * folders as volumes and documents, in page order) with their page ranges, and inside each the
 * pages by their source names. Folders open on demand, so 5,253 names are not drawn at once.
 * The names are read in the background, one piece of the page list at a time, once `read` says
 * (the viewer: after the grid's first screen). A dossier whose PDFs have an outline (bookmarks,
 * read by the server at ingest) shows it first, nested as in the PDF, each bookmark a link to its page.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { OutlineEntry, Page } from '../api.js';
import { t, useLocale } from '../i18n/index.js';
import type { PageList } from '../page-list.js';
import { ErrorNote } from '../status.js';
import { shown } from '../shown-text.js';

interface Folder {
  readonly name: string;
  readonly from: number;
  to: number;
  readonly folders: Folder[];
  readonly pages: { n: number; name: string }[];
}

/** Consecutive pages under the same folder path share a node; a folder met again later gets a new one. */
export function contentsOf(pages: readonly Page[]): Folder {
  const root: Folder = { name: '', from: 1, to: pages.length, folders: [], pages: [] };
  for (const p of pages) {
    const segments = (p.source ?? `#${p.index}`).split('/').filter(Boolean);
    const leaf = segments.pop() ?? `#${p.index}`;
    let node = root;
    for (const s of segments) {
      const last = node.folders[node.folders.length - 1];
      if (last && last.name === s && last.to === p.index - 1) node = last;
      else {
        const made: Folder = { name: s, from: p.index, to: p.index, folders: [], pages: [] };
        node.folders.push(made);
        node = made;
      }
      node.to = p.index;
    }
    node.pages.push({ n: p.index, name: leaf });
  }
  return root;
}

export function Contents({ list, read, outline = [], pageHref }: { list: PageList; read: boolean; outline?: readonly OutlineEntry[]; pageHref: (n: number) => string }) {
  useLocale();
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    setError(null);
    if (read) list.ensureAll().catch(setError);
  }, [list, read]);
  const pages = list.all();
  const root = useMemo(() => (pages ? contentsOf(pages) : null), [pages]);
  const bookmarks = outline.length > 0;
  // A PDF's or single image's pages have no names of their own (`#n`): their page number says it.
  // Beside bookmarks, the page list starts closed: the bookmarks are the way in.
  const open = root !== null && root.folders.length === 0 && root.pages.length <= 200 && !bookmarks;
  return (
    <nav class="panel toc" aria-labelledby="toc-h" aria-busy={root ? undefined : 'true'}>
      <h2 id="toc-h">{t('contents')}</h2>
      {bookmarks && (
        <section aria-labelledby="toc-bookmarks-h" data-toc-outline>
          <h3 id="toc-bookmarks-h">{t('bookmarks')}</h3>
          <Bookmarks entries={outline} pageHref={pageHref} />
        </section>
      )}
      {bookmarks && <h3>{t('pagesHeading')}</h3>}
      {root ? (
        <FolderItems folder={root} pageHref={pageHref} open={open} />
      ) : error ? (
        <ErrorNote error={error} />
      ) : (
        <p>{t('contentsLoading', { done: list.loaded(), total: list.count })}</p>
      )}
    </nav>
  );
}

/** The outline as nested lists, every level shown (an outline is as long as its author made it). */
function Bookmarks({ entries, pageHref }: { entries: readonly OutlineEntry[]; pageHref: (n: number) => string }) {
  return (
    <ul>
      {entries.map((e, i) => (
        <li key={`${i}-${e.title}`} data-toc-bookmark={e.title}>
          {e.page === null ? <span>{shown(e.title)}</span> : <a href={pageHref(e.page)} data-toc-page={e.page}>{shown(e.title)}</a>}
          {e.page !== null && <> <span class="toc-range">{t('contentsPage', { n: e.page })}</span></>}
          {e.children.length > 0 && <Bookmarks entries={e.children} pageHref={pageHref} />}
        </li>
      ))}
    </ul>
  );
}

function FolderItems({ folder, pageHref, open }: { folder: Folder; pageHref: (n: number) => string; open: boolean }) {
  return (
    <ul>
      {folder.folders.map((f) => <FolderNode key={`${f.name}-${f.from}`} folder={f} pageHref={pageHref} />)}
      {open && folder.pages.map((p) => (
        <li key={p.n}><a href={pageHref(p.n)} data-toc-page={p.n}>{/^#\d+$/.test(p.name) ? t('pageN', { n: p.n }) : shown(p.name)}</a> <span class="toc-range">{t('contentsPage', { n: p.n })}</span></li>
      ))}
      {!open && folder.pages.length > 0 && <li><PagesOnDemand folder={folder} pageHref={pageHref} /></li>}
    </ul>
  );
}

function FolderNode({ folder, pageHref }: { folder: Folder; pageHref: (n: number) => string }) {
  const [open, setOpen] = useState(false);
  return (
    <li data-toc-folder={folder.name}>
      <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>{shown(folder.name)} <span class="toc-range">{t('contentsPages', { from: folder.from, to: folder.to })}</span></summary>
        {open && <FolderItems folder={folder} pageHref={pageHref} open />}
      </details>
    </li>
  );
}

/** The loose pages of a large folder-less dossier, listed when asked for. */
function PagesOnDemand({ folder, pageHref }: { folder: Folder; pageHref: (n: number) => string }) {
  const [open, setOpen] = useState(false);
  const first = folder.pages[0]!.n;
  const last = folder.pages[folder.pages.length - 1]!.n;
  return (
    <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{t('contentsPages', { from: first, to: last })}</summary>
      {open && <FolderItems folder={{ ...folder, folders: [] }} pageHref={pageHref} open />}
    </details>
  );
}
