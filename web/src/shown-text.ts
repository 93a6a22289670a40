/**
 * Text that came from outside (file and page names, titles, bookmarks, case numbers) as the screen
 * shows it. JSX already makes markup inert (`<script>` is text); what it leaves are invisible
 * characters that change how the rest reads: a right-to-left override makes the name
 * "statement\u202Efdp.exe" read "statementexe.pdf". Bidirectional controls and other control
 * characters are shown as visible code points instead, so a person sees what the name really is.
 */
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

export const shown = (s: string): string =>
  s.replace(INVISIBLE, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`);
