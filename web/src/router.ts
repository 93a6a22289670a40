/** Hash routes (#/cases/…): the gateway serves one index.html, no server-side fallback needed. */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  readonly path: string[];
  readonly query: URLSearchParams;
}

function parse(): Route {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [p = '/', q = ''] = raw.split('?');
  return { path: p.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const fn = () => setRoute(parse());
    addEventListener('hashchange', fn);
    return () => removeEventListener('hashchange', fn);
  }, []);
  return route;
}

export const href = (path: string, query: Record<string, string | number | undefined> = {}): string => {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)]));
  return `#${path}${q.size ? `?${q}` : ''}`;
};

export const navigate = (path: string, query: Record<string, string | number | undefined> = {}) => {
  location.hash = href(path, query);
};
