/** Signed download links of a dossier: create (lifetime, single use), the list with their uses, copy, revoke. */
import { useState } from 'preact/hooks';
import { api, post } from '../api.js';
import { formatDate, t, useLocale } from '../i18n/index.js';
import { ErrorNote } from '../status.js';
import { useData } from '../use-data.js';

interface Link {
  id: string;
  url: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  singleUse: boolean;
  uses: number;
  firstUsedAt: string | null;
  state: 'active' | 'used' | 'expired' | 'revoked';
}

const LIFETIMES = [
  { ttl: '1h', hours: 1 },
  { ttl: '24h', hours: 24 },
  { ttl: '7d', days: 7 },
];

export function LinksPanel({ dossierId }: { dossierId: string }) {
  useLocale();
  const { data, error: loadError, reload } = useData<{ links: Link[] }>(`/api/dossiers/${dossierId}/links`);
  const [ttl, setTtl] = useState('24h');
  const [singleUse, setSingleUse] = useState(false);
  const [copied, setCopied] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);

  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError(null);
      reload();
    } catch (err) {
      setError(err as Error);
    }
  };
  const create = (e: Event) => (e.preventDefault(), void act(() => post(`/api/dossiers/${dossierId}/links`, { ttl, singleUse })));
  const copy = async (link: Link) => {
    await navigator.clipboard?.writeText(link.url!).catch(() => undefined);
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
      <ErrorNote error={error ?? loadError} />
      {data && data.links.length === 0 && <p>{t('noLinks')}</p>}
      <ul class="plain links">
        {(data?.links ?? []).map((l) => (
          <li key={l.id} data-link={l.id} data-state={l.state}>
            {l.url && <label>{t('linkUrl')}<input readOnly value={l.url} class="link-url" onFocus={(e) => (e.target as HTMLInputElement).select()} /></label>}
            <span class={`link-state link-${l.state}`}>{t(`link_${l.state}`)}</span>{' '}
            <span>{t('expires', { time: formatDate(l.expiresAt) })}{l.singleUse ? ` · ${t('singleUse')}` : ''}</span>
            <br />
            <span class="link-uses">{t('linkUses', { n: l.uses })}{l.firstUsedAt ? ` · ${t('linkFirstUsed', { time: formatDate(l.firstUsedAt) })}` : ''} · {t('linkMadeBy', { user: l.createdBy, time: formatDate(l.createdAt) })}</span>
            {l.state === 'active' && (
              <div class="link-actions">
                <button type="button" onClick={() => void copy(l)}>{copied === l.id ? t('copied') : t('copy')}</button>
                <button type="button" onClick={() => void act(() => api('DELETE', `/api/links/${l.id}`))}>{t('revoke')}</button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
