/**
 * Language: en or zh-CN, first from the browser's preferences, then as the user switches it
 * (remembered in localStorage). Dates and numbers are formatted in the chosen locale.
 */
import { useEffect, useState } from 'preact/hooks';
import { en, type MessageKey } from './en.js';
import { zhCN } from './zh-CN.js';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', 'zh-CN': '简体中文' };

const messages: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };
const STORAGE_KEY = 'dossier.locale';

function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  for (const l of navigator.languages ?? [navigator.language]) {
    if (/^zh\b/i.test(l)) return 'zh-CN';
    if (/^en\b/i.test(l)) return 'en';
  }
  return 'en';
}

let current: Locale = initialLocale();
const listeners = new Set<() => void>();

export function setLocale(l: Locale): void {
  current = l;
  localStorage.setItem(STORAGE_KEY, l);
  document.documentElement.lang = l;
  for (const fn of listeners) fn();
}

export const locale = (): Locale => current;

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  return messages[current][key].replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = vars[name];
    return v === undefined ? `{${name}}` : typeof v === 'number' ? formatNumber(v) : v;
  });
}

// Making an Intl formatter costs far more than using one (a grid labels hundreds of tiles a
// frame while it scrolls): one of each per locale and options, made when first needed.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function formatter<F extends Intl.NumberFormat | Intl.DateTimeFormat>(kind: string, make: () => F): F {
  const key = `${current}|${kind}`;
  let f = formatters.get(key) as F | undefined;
  if (!f) formatters.set(key, (f = make()));
  return f;
}

export const formatNumber = (n: number): string => formatter('n', () => new Intl.NumberFormat(current)).format(n);
/** Sizes as Uppy's Dashboard shows them beside ours: 1,024-based, named kB, MB, GB. */
export function formatBytes(n: number): string {
  const [unit, size] = n >= 2 ** 30 ? (['gigabyte', 2 ** 30] as const) : n >= 2 ** 20 ? (['megabyte', 2 ** 20] as const) : (['kilobyte', 2 ** 10] as const);
  return formatter(unit, () => new Intl.NumberFormat(current, { style: 'unit', unit, maximumFractionDigits: 1 })).format(n / size);
}
export const formatDate = (iso: string | null | undefined): string =>
  iso ? formatter('d', () => new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' })).format(new Date(iso)) : '';

/** Re-renders the calling component when the language changes. */
export function useLocale(): Locale {
  const [, bump] = useState(0);
  useEffect(() => {
    const fn = () => bump((n) => n + 1);
    listeners.add(fn);
    return () => void listeners.delete(fn);
  }, []);
  return current;
}

document.documentElement.lang = current;
