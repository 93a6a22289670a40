/**
 * A small browser-like HTTP client for API-level tests of redirect journeys: real requests
 * (fetch), a cookie jar per host:port, redirects followed one hop at a time so the test sees
 * (and may stop at) every one of them.
 */
export interface Hop {
  readonly url: string;
  readonly status: number;
  readonly location: string | null;
  readonly body: string;
  readonly headers: Headers;
}

export class CookieClient {
  private readonly jar = new Map<string, Map<string, string>>();

  cookie(origin: string, name: string): string | undefined {
    return this.jar.get(new URL(origin).host)?.get(name);
  }

  /** One request, no redirect followed; Set-Cookie kept (a Max-Age=0 cookie removed). */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Hop> {
    const u = new URL(url);
    const cookies = [...(this.jar.get(u.host) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(u, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: { ...(cookies ? { cookie: cookies } : {}), ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      const jar = this.jar.get(u.host) ?? new Map<string, string>();
      this.jar.set(u.host, jar);
      if (gone || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const location = res.headers.get('location');
    return { url: u.href, status: res.status, location: location ? new URL(location, u).href : null, body: await res.text(), headers: res.headers };
  }

  /** Follows redirects until a non-redirect answer or until `stop` says so of the next URL. */
  async follow(url: string, stop: (next: string) => boolean = () => false, init: { method?: string; form?: Record<string, string> } = {}): Promise<Hop[]> {
    const hops: Hop[] = [];
    let hop = await this.request(url, init);
    hops.push(hop);
    while (hop.location && hop.status >= 300 && hop.status < 400 && hops.length < 20) {
      if (stop(hop.location)) break;
      hop = await this.request(hop.location);
      hops.push(hop);
    }
    return hops;
  }
}

/** The first form of an HTML page: where it posts and its hidden fields. */
export function formOf(html: string, base: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form in page: ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi)) fields[m[1]!] = m[2]!;
  return { action: new URL(form[1]!.replace(/&amp;/g, '&'), base).href, fields };
}
