// The one seam every user-visible string of the VS Code face goes through. In the extension it is
// `vscode.l10n.t` (installed by extension.ts); pure model modules import `t` from here so plain-node tests can
// render them with a loaded bundle instead. This module must not import `vscode`.

/** Arguments a message may substitute for `{0}`, `{1}`, … */
export type L10nArg = string | number | boolean;
/** Looks a message up in the active bundle and fills its `{n}` placeholders. */
export type Translate = (message: string, ...args: L10nArg[]) => string;

/** Bundle as VS Code stores it: message → translation (or `{ message, comment }`). */
export type L10nBundle = Record<string, string | { message: string; comment?: string[] }>;

/** Fills `{0}`-style placeholders the way `@vscode/l10n` does; unknown ones stay as written. */
export function formatMessage(template: string, args: readonly L10nArg[]): string {
  return template.replace(/\{(\d+)\}/g, (m, i: string) => {
    const v = args[Number(i)];
    return v === undefined ? m : String(v);
  });
}

const english: Translate = (message, ...args) => formatMessage(message, args);
let active: Translate = english;

/** Translates a user-visible message; the English text is the key, as with `vscode.l10n.t`. */
export function t(message: string, ...args: L10nArg[]): string {
  return active(message, ...args);
}

/** Routes `t` through another translator (vscode.l10n.t in the extension, a bundle in tests); undefined resets. */
export function useTranslator(fn: Translate | undefined): void {
  active = fn ?? english;
}

/** A translator over one bundle: missing keys fall back to the English message, like VS Code does. */
export function bundleTranslator(bundle: L10nBundle): Translate {
  return (message, ...args) => {
    const e = bundle[message];
    const text = e === undefined ? message : typeof e === 'string' ? e : e.message;
    return formatMessage(text, args);
  };
}

/** `{0}`, `{1}`… that a message uses, sorted (a translation must keep exactly these). */
export function placeholdersOf(message: string): string[] {
  return [...new Set(message.match(/\{\d+\}/g) ?? [])].sort();
}
