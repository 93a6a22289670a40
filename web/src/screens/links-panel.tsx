/** Signed download links of a dossier: create (lifetime, single use), copy, revoke. */
import { useState } from 'preact/hooks';
import { api, post } from '../api.js';
import { formatDate, t, useLocale } from '../i18n/index.js';
import { ErrorNote } from '../status.js';

interface Link {
  id: string;
  url: string;
  expiresAt: string;
  singleUse: boolean;
  revoked?: boolean;
}

const LIFETIMES = [
  { ttl: '1h', hours: 1 },
  { ttl: '24h', hours: 24 },
  { ttl: '7d', days: 7 },
];

export function LinksPanel({ dossierId }: { dossierId: string }) {
  useLocale();
  const [links, setLinks] = useState<Link[]>([]);
  const [ttl, setTtl] = useState('24h');
  const [singleUse, setSingleUse] = useState(false);
  const [copied, setCopied] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const link = await post<Link>(`/api/dossiers/${dossierId}/links`, { ttl, singleUse });
      setLinks((l) => [link, ...l]);
    } catch (err) {
      setError(err as Error);
    }
  };
  const revoke = async (id: string) => {
    try {
      await api('DELETE', `/api/links/${id}`);
      setLinks((l) => l.map((x) => (x.id === id ? { ...x, revoked: true } : x)));
    } catch (err) {
      setError(err as Error);
    }
  };
  const copy = async (link: Link) => {
    await navigator.clipboard?.writeText(link.url).catch(() => undefined);
    setCopied(link.id);
  };

  return (
    <section class="panel" aria-labelledby="links-h">
      <h2 id="links-h">{t('links')}</h2>
      <form onSubmit={create}>
        <label>{t('lifetime')}
          <select value={ttl} onChange={(e) => setTtl((e.target as HTMLSelectElement).value)}>
            {LIFETIMES.map((l) => <option key={l.ttl} value={l.ttl}>{l.days ? t('days', { n: l.days }) : t('hours', { n: l.hours! })}</option>)}
          </select>
        </label>
        <label class="check"><input type="checkbox" checked={singleUse} onChange={(e) => setSingleUse((e.target as HTMLInputElement).checked)} /> {t('singleUse')}</label>
        <button type="submit">{t('createLink')}</button>
      </form>
      <ErrorNote error={error} />
      <ul class="plain links">
        {links.map((l) => (
          <li key={l.id} data-link={l.id}>
            <label>{t('linkUrl')}<input readOnly value={l.url} class="link-url" onFocus={(e) => (e.target as HTMLInputElement).select()} /></label>
            <span>{l.revoked ? t('revoked') : t('expires', { time: formatDate(l.expiresAt) })}{l.singleUse ? ` · ${t('singleUse')}` : ''}</span>
            {!l.revoked && (
              <>
                <button type="button" onClick={() => void copy(l)}>{copied === l.id ? t('copied') : t('copy')}</button>
                <button type="button" onClick={() => void revoke(l.id)}>{t('revoke')}</button>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
