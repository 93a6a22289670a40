/** Text with the searched words marked, and the server's snippets (escaped text with <mark>) as nodes, never as HTML. */
import type { ComponentChildren } from 'preact';

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

export function Snippet({ html }: { html: string }) {
  const parts = html.split(/(<mark>.*?<\/mark>)/g);
  return <>{parts.map((p, i) => (p.startsWith('<mark>') ? <mark key={i}>{unescape(p.slice(6, -7))}</mark> : unescape(p)))}</>;
}

/** Marks every occurrence of each query word (case-insensitive; CJK words as substrings). */
export function Highlighted({ text, q }: { text: string; q: string }): ComponentChildren {
  const words = q.split(/\s+/).filter((w) => w.length > 0).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (words.length === 0) return text;
  const re = new RegExp(`(${words.join('|')})`, 'giu');
  return text.split(re).map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part));
}
