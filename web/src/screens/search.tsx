/** Full-text search over every page the agency may see; a hit opens that page with the words marked. */
import { useState } from 'preact/hooks';
import { t, useLocale } from '../i18n/index.js';
import { Snippet } from '../highlight.js';
import { href, navigate } from '../router.js';
import { ErrorNote } from '../status.js';
import { useData } from '../use-data.js';

interface Hit {
  dossierId: string;
  page: number;
  snippet: string;
  score: number;
}

export function SearchScreen({ q }: { q: string }) {
  useLocale();
  const [input, setInput] = useState(q);
  const { data, error, reload } = useData<{ hits: Hit[] }>(q ? `/api/search?q=${encodeURIComponent(q)}&limit=50` : null);
  return (
    <section>
      <h1>{t('search')}</h1>
      <form role="search" class="inline-form" onSubmit={(e) => (e.preventDefault(), input.trim() === q ? reload() : navigate('/search', { q: input.trim() }))}>
        <label>{t('search')}<input type="search" name="q" placeholder={t('searchPlaceholder')} value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">{t('search')}</button>
      </form>
      <ErrorNote error={error} />
      {q && data && (data.hits.length === 0 ? <p>{t('noHits')}</p> : (
        <ol class="hits">
          {data.hits.map((h) => (
            <li key={`${h.dossierId}/${h.page}`}>
              <a href={href(`/dossiers/${h.dossierId}`, { page: h.page, q })}>{t('hit', { page: h.page, dossier: h.dossierId.slice(0, 8) })}</a>
              <p><Snippet html={h.snippet} /></p>
            </li>
          ))}
        </ol>
      ))}
    </section>
  );
}
