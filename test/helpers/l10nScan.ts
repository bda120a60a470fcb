// Finds the user-visible strings of src/host and src/webview with the TypeScript parser: the messages given to
// t()/vscode.l10n.t(), and prose literals that bypass them. Shared by the l10n tests.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';

export interface Finding {
  file: string;
  line: number;
  text: string;
}

/** Property names whose string values VS Code shows as they are. */
const UI_PROPS = new Set(['label', 'description', 'detail', 'tooltip', 'text', 'title', 'placeHolder', 'prompt', 'message']);
/** Page helpers (media/*.js) whose argument at this index is a CSS class list, not text. */
const CLASS_ARG: Record<string, number> = { el: 1, cell: 1, twoLine: 2 };
/** Properties that hold identifiers, never shown. */
const ID_PROPS = new Set(['id', 'contextValue', 'command', 'when', 'kind', 'action', 'value', 'key', 'type']);
/** Calls whose string arguments go to logs or are not shown (log lines stay English by design; a page's bad message is logged). */
const SILENT_CALLS = new Set(['PageMessageError', 'debug', 'info', 'warn', 'error', 'trace', 'appendLine', 'append', 'require', 'getConfiguration',
  'executeCommand', 'registerCommand', 'get', 'has', 'setContext', 'update', 'inspect', 'createOutputChannel', 'asWebviewUri',
  'joinPath', 'querySelector', 'querySelectorAll', 'startsWith', 'endsWith', 'includes', 'split', 'replace', 'indexOf', 'test', 'match']);
/** Names that are the same in every language. */
const PROPER = /^(Codex|Claude|Claude Code|Codex Helper|OpenAI|Anthropic|Cloudflare|SSE|HTTP|URL|JSON|TOML|CSV)$/;

/** Text an HTML literal shows (between tags, and in title/placeholder/aria-label) that is not a substitution. */
export function htmlProse(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/>([^<>]*)</g)) out.push(m[1]!);
  for (const m of html.matchAll(/\b(?:title|placeholder|aria-label|alt)="([^"]*)"/g)) out.push(m[1]!);
  return out.map((x) => x.replace(/\{\d+\}|&[#\w]+;/g, '').trim()).filter((x) => /[A-Za-z]{2,}/.test(x) && !PROPER.test(x) && !/^[A-Z]{2,5}$|^\dxx$/.test(x));
}

/** Whether a literal reads as words: two words in a row, or a capitalised word. */
export function looksLikeProse(text: string): boolean {
  const s = text.replace(/\$\([a-z-~]+\)/g, ' ').replace(/\{\d+\}/g, ' ').trim();
  if (!s || PROPER.test(s)) return false;
  if (/^[a-z][\w.-]*$/i.test(s) && !/^[A-Z][a-z]{2,}[.…!?]?$/.test(s)) return false;
  if (/^[A-Z][a-z]{2,}[.…!?]?$/.test(s)) return true;
  return /[A-Za-z]{2,}[.,:;!?)'’]*\s+[("'‘]?[A-Za-z]{2,}/.test(s);
}

function walk(dir: string, out: string[]): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The .ts files of src/host and src/webview under root. */
export function faceFiles(root: string): string[] {
  return [...walk(join(root, 'src/host'), []), ...walk(join(root, 'src/webview'), [])].sort();
}

function isT(call: ts.CallExpression): boolean {
  const c = call.expression;
  if (ts.isIdentifier(c)) return c.text === 't';
  return ts.isPropertyAccessExpression(c) && c.name.text === 't' && ts.isPropertyAccessExpression(c.expression) && c.expression.name.text === 'l10n';
}

function calleeName(call: ts.CallExpression | ts.NewExpression): string {
  const c = call.expression;
  return ts.isIdentifier(c) ? c.text : ts.isPropertyAccessExpression(c) ? c.name.text : '';
}

function templateText(node: ts.TemplateExpression): string {
  return node.head.text + node.templateSpans.map((s, i) => `{${i}}${s.literal.text}`).join('');
}

/** Scans one file's text: messages passed to t() and prose literals outside t(). */
export function scanSource(file: string, text: string): { messages: Finding[]; bare: Finding[] } {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const messages: Finding[] = [];
  const bare: Finding[] = [];
  // A file whose strings only reach logs says so on a line of its own, with the reason.
  const wholeFile = /^\/\/ l10n-ignore-file: \S/m.test(text);
  const lines = text.split('\n');
  const at = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
  const ignored = (n: ts.Node) => {
    const l = at(n);
    return /l10n-ignore/.test(lines[l] ?? '') || /l10n-ignore/.test(lines[l - 1] ?? '');
  };
  const exempt = (n: ts.Node): boolean => {
    let c: ts.Node = n;
    let p = n.parent;
    // Through the expressions that only pass a value on, to where it is used.
    while (ts.isParenthesizedExpression(p) || ts.isConditionalExpression(p) && p.condition !== c || ts.isTemplateSpan(p) || ts.isTemplateExpression(p)
      || ts.isBinaryExpression(p) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.PlusToken].includes(p.operatorToken.kind)) {
      c = p;
      p = p.parent;
    }
    if (ts.isImportDeclaration(p) || ts.isExportDeclaration(p) || ts.isLiteralTypeNode(p) || ts.isCaseClause(p) || ts.isExternalModuleReference(p)) return true;
    if ((ts.isCallExpression(p) || ts.isNewExpression(p)) && c !== p.expression && (SILENT_CALLS.has(calleeName(p)) || ts.isCallExpression(p) && isT(p))) return true;
    if (ts.isElementAccessExpression(p) || ts.isExpressionStatement(p)) return true;
    if (ts.isCallExpression(p) && p.arguments.indexOf(c as ts.Expression) === CLASS_ARG[calleeName(p)]) return true;
    if (ts.isPropertyAssignment(p) && p.initializer === c && ID_PROPS.has(p.name.getText(sf))) return true;
    return ts.isBinaryExpression(p) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken].includes(p.operatorToken.kind);
  };
  const uiProp = (n: ts.Node) => {
    let c: ts.Node = n;
    let p = n.parent;
    while (ts.isParenthesizedExpression(p) || ts.isConditionalExpression(p) && p.condition !== c || ts.isArrayLiteralExpression(p)
      || ts.isBinaryExpression(p) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(p.operatorToken.kind)
      || ts.isPropertyAccessExpression(p) || ts.isCallExpression(p) && p.expression !== c && ts.isPropertyAccessExpression(p.expression) && ['join', 'filter'].includes(p.expression.name.text)) {
      c = p;
      p = p.parent;
    }
    n = c;
    if (ts.isPropertyAssignment(p) && p.initializer === n) return UI_PROPS.has(p.name.getText(sf));
    return ts.isBinaryExpression(p) && p.right === n && ts.isPropertyAccessExpression(p.left) && UI_PROPS.has(p.left.name.text);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && isT(n)) {
      const a = n.arguments[0];
      if (a && (ts.isStringLiteral(a) || ts.isNoSubstitutionTemplateLiteral(a))) messages.push({ file, line: at(a) + 1, text: a.text });
      else if (a && !ignored(n)) bare.push({ file, line: at(n) + 1, text: `t() needs a literal message, got ${a.getText(sf)}` });
    } else if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n)) {
      const s = ts.isTemplateExpression(n) ? templateText(n) : n.text;
      // A template reads as words when a word stands apart from a substitution: `active {0}`, `{0} turns`.
      const wordy = ts.isTemplateExpression(n) && /(^|\s|\})[A-Za-z][a-z]{2,}\s|\s[A-Za-z][a-z]{2,}(\s|$|\{)/.test(s.replace(/\$\([a-z-~]+\)/g, ''));
      const html = /^\s*</.test(s);
      const visible = html ? htmlProse(s).length > 0 : looksLikeProse(s) || wordy || (uiProp(n) && /[A-Za-z]{2,}/.test(s.replace(/\$\([a-z-~]+\)/g, '')) && !PROPER.test(s));
      if (visible && !wholeFile && !exempt(n) && !ignored(n)) bare.push({ file, line: at(n) + 1, text: s });
      if (ts.isTemplateExpression(n)) n.templateSpans.forEach((sp) => visit(sp.expression));
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { messages, bare };
}

/** Scans every face file under root. */
export function scanTree(root: string): { messages: Finding[]; bare: Finding[] } {
  const messages: Finding[] = [];
  const bare: Finding[] = [];
  for (const f of faceFiles(root)) {
    const r = scanSource(relative(root, f), readFileSync(f, 'utf8'));
    messages.push(...r.messages);
    bare.push(...r.bare);
  }
  return { messages, bare };
}
