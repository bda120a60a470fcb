// Pointing Codex (config.toml) and Claude Code (settings.json) at the proxy, and undoing it.
// Unlike the seed, which re-serialised the whole file, every edit here is surgical: comments, key order, spacing and
// line endings the user wrote survive, and switch-off after an untouched switch-on restores the original bytes.
// If the user edited the file while switched on, switch-off removes only our patch so their edits survive.
// The JSON text editing lives in jsonEdit.ts and the backup/atomic-write I/O in clientFiles.ts.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  TomlEditError,
  parseTomlText,
  removeTable,
  removeTableKey,
  removeTopLevelKey,
  setTableKeys,
  setTopLevelKey,
  tomlValueAt,
} from '../core/tomlEdit';
import type { EnvSnapshot } from '../core/envOptions';
import { ClientConfigError, atomicWrite, readText, writeBackup, writeIfChanged } from './clientFiles';
import { indentUnit, insertMember, lastMember, removeMember, scanObject, skipJsonWs, stripBom } from '../core/jsonEdit';

export interface SwitchStatus {
  client: 'codex' | 'claude';
  file: string;
  enabled: boolean;
  port?: number;
  has_backup: boolean;
  stale: boolean;
  message: string;
}

export { ClientConfigError } from './clientFiles';
export type { ClientConfigErrorCode } from './clientFiles';

export const BACKUP_SUFFIX = '.codex-helper-backup';
export const CODEX_BACKUP_SENTINEL = '# codex-helper-backup:absent';
export const CLAUDE_BACKUP_SENTINEL = '{"__codex_helper_backup_absent":true}';
export const CODEX_PROXY_PROVIDER_ID = 'codex_proxy';
export const DEFAULT_CODEX_PORT = 3211;
export const DEFAULT_CLAUDE_PORT = 3210;

const PROXY_TABLE = ['model_providers', CODEX_PROXY_PROVIDER_ID];
/** Keys switch-on writes into `[model_providers.codex_proxy]`. */
const PROXY_KEYS = ['name', 'base_url', 'wire_api', 'request_max_retries'] as const;

/** `$CODEX_HOME` (when not blank) or `~/.codex`. */
export function codexHomeDir(env: EnvSnapshot, homedir: string = os.homedir()): string {
  const v = env.CODEX_HOME?.trim();
  return v ? v : path.join(homedir, '.codex');
}

/** `$CLAUDE_HOME` (when not blank) or `~/.claude`. */
export function claudeHomeDir(env: EnvSnapshot, homedir: string = os.homedir()): string {
  const v = env.CLAUDE_HOME?.trim();
  return v ? v : path.join(homedir, '.claude');
}

/** `settings.json`, or the legacy `claude.json` when only that exists. */
export function claudeSettingsFile(claudeHome: string): string {
  const settings = path.join(claudeHome, 'settings.json');
  if (fs.existsSync(settings)) return settings;
  const legacy = path.join(claudeHome, 'claude.json');
  return fs.existsSync(legacy) ? legacy : settings;
}

/** True for http(s) URLs whose host is 127.x.x.x, localhost or ::1. */
export function isLoopbackUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  const h = u.hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The base URL a client should use to reach the proxy. */
export function proxyBaseUrl(port: number, host = '127.0.0.1'): string {
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

function portOf(url: string): number | undefined {
  try {
    const u = new URL(url);
    if (u.port) return Number(u.port);
    return u.protocol === 'https:' ? 443 : 80;
  } catch {
    return undefined;
  }
}

/**
 * The status both clients share: `probe` parses the file (a parse error becomes the message) and says whether it
 * points at the proxy and at which URL.
 */
function switchStatus(
  client: SwitchStatus['client'],
  file: string,
  probe: (text: string, file: string) => { enabled: boolean; url: unknown },
): SwitchStatus {
  const label = client === 'codex' ? 'Codex' : 'Claude Code';
  const repair = `codex-helper switch off --${client}`;
  const name = path.basename(file);
  const has_backup = fs.existsSync(file + BACKUP_SUFFIX);
  const base = { client, file, has_backup };
  const text = readText(file);
  if (text === undefined) {
    return {
      ...base,
      enabled: false,
      stale: has_backup,
      message: has_backup
        ? `${name} is missing but a codex-helper backup exists; run \`${repair}\` to restore it`
        : `${label} is not switched to codex-helper (no ${name})`,
    };
  }
  let probed: { enabled: boolean; url: unknown };
  try {
    probed = probe(text, file);
  } catch (err) {
    return { ...base, enabled: false, stale: has_backup, message: (err as Error).message };
  }
  const { enabled, url } = probed;
  const port = enabled && typeof url === 'string' ? portOf(url) : undefined;
  const stale = enabled !== has_backup;
  let message: string;
  if (enabled && has_backup) message = `${label} points at codex-helper (${String(url)})`;
  else if (enabled) {
    message = `${label} points at ${String(url)} but no backup exists (left over from a crash?); run \`${repair}\` to repair`;
  } else if (has_backup) {
    message = `A codex-helper backup exists but ${label} does not point at the proxy; run \`${repair}\` to clean up`;
  } else message = `${label} is not switched to codex-helper`;
  return { ...base, enabled, ...(port !== undefined ? { port } : {}), stale, message };
}

// --- Codex -----------------------------------------------------------------------------------------------------

/** Point Codex at the proxy: back up config.toml once, then patch it in place. */
export function codexSwitchOn(codexHome: string, port: number, host = '127.0.0.1'): SwitchStatus {
  const file = path.join(codexHome, 'config.toml');
  const backup = file + BACKUP_SUFFIX;
  const current = readText(file);
  const backupText = readText(backup);
  const doc = current === undefined ? {} : parseCodex(file, current);
  const url = proxyBaseUrl(port, host);
  const patched = codexGuard(file, () => applyCodexPatch(current ?? '', url));
  const alreadyOurs = codexPointsAtProxy(doc);

  fs.mkdirSync(codexHome, { recursive: true });
  let note = '';
  if (backupText === undefined) {
    // A patched file with no backup is a crash leftover: backing it up would make switch-off restore the patch.
    if (alreadyOurs) note = ' (no backup: config already pointed at codex_proxy; `switch off` removes the patch)';
    else writeBackup(file, backup, current, CODEX_BACKUP_SENTINEL);
  } else if (!alreadyOurs && current !== undefined) {
    // The backup predates the user's latest edits (crash or manual restore): refresh it so off restores today's file.
    writeBackup(file, backup, current, CODEX_BACKUP_SENTINEL, true);
    note = ' (refreshed a stale backup)';
  }
  if (patched !== current) atomicWrite(file, patched);
  const status = codexSwitchStatus(codexHome);
  status.message = patched === current ? `Codex already points at ${url}${note}` : `Codex now points at ${url}${note}`;
  return status;
}

/** Undo codexSwitchOn: restore the original bytes, or remove only our patch when the user edited the file since. */
export function codexSwitchOff(codexHome: string): SwitchStatus {
  const file = path.join(codexHome, 'config.toml');
  const backup = file + BACKUP_SUFFIX;
  const current = readText(file);
  const backupText = readText(backup);
  let message: string;

  if (backupText === undefined) {
    const doc = current === undefined ? {} : parseCodex(file, current);
    if (!codexPointsAtProxy(doc) || current === undefined) {
      return { ...codexSwitchStatus(codexHome), message: 'Codex is not switched to codex-helper; nothing to do' };
    }
    writeIfChanged(file, current, codexGuard(file, () => removeCodexPatch(current, doc, undefined)));
    return { ...codexSwitchStatus(codexHome), message: 'Removed a leftover codex_proxy patch (no backup was found)' };
  }

  const sentinel = backupText.trim() === CODEX_BACKUP_SENTINEL;
  if (current === undefined) {
    if (!sentinel) atomicWrite(file, fs.readFileSync(backup));
    message = sentinel ? 'config.toml is already absent; removed the backup' : 'Restored config.toml from the backup';
  } else {
    const doc = parseCodex(file, current);
    const original = sentinel ? '' : backupText;
    const origDoc = parseCodex(backup, original);
    const curUrl = tomlValueAt(doc, [...PROXY_TABLE, 'base_url']);
    const untouched =
      typeof curUrl === 'string' && codexGuard(file, () => applyCodexPatch(original, curUrl)) === current;
    if (untouched) {
      if (sentinel) fs.rmSync(file, { force: true });
      else atomicWrite(file, fs.readFileSync(backup));
      message = sentinel ? 'Removed config.toml (it did not exist before switch on)' : 'Restored the original config.toml';
    } else {
      const out = codexGuard(file, () => removeCodexPatch(current, doc, origDoc));
      if (sentinel && out.trim() === '') fs.rmSync(file, { force: true });
      else writeIfChanged(file, current, out);
      message = 'Removed the codex_proxy patch and kept your other edits to config.toml';
    }
  }
  fs.rmSync(backup, { force: true });
  return { ...codexSwitchStatus(codexHome), message };
}

/** Where Codex points now, whether a backup exists, and whether the two disagree (a crash leftover). */
export function codexSwitchStatus(codexHome: string): SwitchStatus {
  return switchStatus('codex', path.join(codexHome, 'config.toml'), (text, file) => {
    const doc = parseCodex(file, text);
    return { enabled: codexPointsAtProxy(doc), url: tomlValueAt(doc, [...PROXY_TABLE, 'base_url']) };
  });
}

function applyCodexPatch(text: string, url: string): string {
  const out = setTopLevelKey(text, 'model_provider', CODEX_PROXY_PROVIDER_ID);
  return setTableKeys(out, PROXY_TABLE, [
    { key: 'name', value: 'codex-helper' },
    { key: 'base_url', value: url },
    { key: 'wire_api', value: 'responses' },
    // Codex retrying on top of the proxy's own retries would multiply attempts; respect a value the user chose.
    { key: 'request_max_retries', value: 0, onlyIfAbsent: true },
  ]);
}

function removeCodexPatch(text: string, doc: Record<string, unknown>, orig: Record<string, unknown> | undefined): string {
  let out = text;
  if (doc.model_provider === CODEX_PROXY_PROVIDER_ID) {
    const prev = orig?.model_provider;
    out = typeof prev === 'string' ? setTopLevelKey(out, 'model_provider', prev) : removeTopLevelKey(out, 'model_provider');
  }
  const cur = tomlValueAt(doc, PROXY_TABLE);
  if (cur === null || typeof cur !== 'object') return out;
  const prevTable = orig === undefined ? undefined : tomlValueAt(orig, PROXY_TABLE);
  if (prevTable !== null && typeof prevTable === 'object') {
    // The user had their own codex_proxy table: put back the values we overwrote, drop the keys we added.
    for (const key of PROXY_KEYS) {
      const v = (prevTable as Record<string, unknown>)[key];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        out = setTableKeys(out, PROXY_TABLE, [{ key, value: v }]);
      } else if (v === undefined) out = removeTableKey(out, PROXY_TABLE, key);
    }
    return out;
  }
  const c = cur as Record<string, unknown>;
  const ours = c.name === 'codex-helper' || (typeof c.base_url === 'string' && isLoopbackUrl(c.base_url));
  return ours ? removeTable(out, PROXY_TABLE) : out;
}

function codexPointsAtProxy(doc: Record<string, unknown>): boolean {
  const url = tomlValueAt(doc, [...PROXY_TABLE, 'base_url']);
  return doc.model_provider === CODEX_PROXY_PROVIDER_ID && typeof url === 'string' && isLoopbackUrl(url);
}

function parseCodex(file: string, text: string): Record<string, unknown> {
  return codexGuard(file, () => parseTomlText(text));
}

function codexGuard<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TomlEditError) {
      const code = err.code === 'TOML_PARSE' ? 'CLIENT_CONFIG_INVALID' : 'CLIENT_CONFIG_UNSUPPORTED';
      const what = err.code === 'TOML_PARSE' ? 'is not valid TOML' : 'cannot be edited safely';
      throw new ClientConfigError(code, file, `${file} ${what}: ${err.message}; nothing was changed`, err.line, {
        cause: err,
      });
    }
    throw err;
  }
}

// --- Claude Code -----------------------------------------------------------------------------------------------

/** Point Claude Code at the proxy: back up settings.json once, then set env.ANTHROPIC_BASE_URL in place. */
export function claudeSwitchOn(claudeHome: string, port: number, host = '127.0.0.1'): SwitchStatus {
  const file = claudeSettingsFile(claudeHome);
  const backup = file + BACKUP_SUFFIX;
  const current = readText(file);
  const backupText = readText(backup);
  const root = current === undefined ? {} : parseClaude(file, current);
  const url = proxyBaseUrl(port, host);
  const patched = claudePatch(file, current ?? '', url);
  const curUrl = envBaseUrl(root);
  // A loopback URL on our own port with no backup is a crash leftover; any other URL is the user's and is backed up.
  const alreadyOurs = curUrl !== undefined && isLoopbackUrl(curUrl) && portOf(curUrl) === port;

  fs.mkdirSync(path.dirname(file), { recursive: true });
  let note = '';
  if (backupText === undefined) {
    if (alreadyOurs) note = ' (no backup: settings already pointed at the proxy; `switch off` removes the patch)';
    else writeBackup(file, backup, current, CLAUDE_BACKUP_SENTINEL);
  } else if (!(curUrl !== undefined && isLoopbackUrl(curUrl)) && current !== undefined) {
    writeBackup(file, backup, current, CLAUDE_BACKUP_SENTINEL, true);
    note = ' (refreshed a stale backup)';
  }
  if (patched !== current) atomicWrite(file, patched);
  const status = claudeSwitchStatus(claudeHome);
  status.message =
    patched === current ? `Claude Code already points at ${url}${note}` : `Claude Code now points at ${url}${note}`;
  return status;
}

/** Undo claudeSwitchOn: restore the original bytes, or remove only our ANTHROPIC_BASE_URL when edited since. */
export function claudeSwitchOff(claudeHome: string): SwitchStatus {
  const file = claudeSettingsFile(claudeHome);
  const backup = file + BACKUP_SUFFIX;
  const current = readText(file);
  const backupText = readText(backup);
  let message: string;

  if (backupText === undefined) {
    const root = current === undefined ? {} : parseClaude(file, current);
    const cur = envBaseUrl(root);
    if (current === undefined || cur === undefined || !isLoopbackUrl(cur)) {
      return { ...claudeSwitchStatus(claudeHome), message: 'Claude Code is not switched to codex-helper; nothing to do' };
    }
    writeIfChanged(file, current, removeClaudePatch(current, undefined, true));
    return {
      ...claudeSwitchStatus(claudeHome),
      message: 'Removed a leftover ANTHROPIC_BASE_URL pointing at localhost (no backup was found)',
    };
  }

  const sentinel = backupText.trim() === CLAUDE_BACKUP_SENTINEL;
  if (current === undefined) {
    if (!sentinel) atomicWrite(file, fs.readFileSync(backup));
    message = sentinel ? `${path.basename(file)} is already absent; removed the backup` : `Restored ${file} from the backup`;
  } else {
    const root = parseClaude(file, current);
    const original = sentinel ? '' : backupText;
    const origRoot = parseClaude(backup, original);
    const curUrl = envBaseUrl(root);
    const untouched = curUrl !== undefined && claudePatch(file, original, curUrl) === current;
    if (untouched) {
      if (sentinel) fs.rmSync(file, { force: true });
      else atomicWrite(file, fs.readFileSync(backup));
      message = sentinel ? `Removed ${path.basename(file)} (it did not exist before switch on)` : `Restored the original ${path.basename(file)}`;
    } else {
      const origEnv = origRoot.env;
      const hadEnv = origEnv !== null && typeof origEnv === 'object' && !Array.isArray(origEnv);
      const out = removeClaudePatch(current, envBaseUrl(origRoot), hadEnv);
      const left = JSON.parse(out.trim() === '' ? '{}' : out) as Record<string, unknown>;
      if (sentinel && Object.keys(left).length === 0) fs.rmSync(file, { force: true });
      else writeIfChanged(file, current, out);
      message = `Removed ANTHROPIC_BASE_URL set by codex-helper and kept your other edits to ${path.basename(file)}`;
    }
  }
  fs.rmSync(backup, { force: true });
  return { ...claudeSwitchStatus(claudeHome), message };
}

/** Where Claude Code points now, whether a backup exists, and whether the two disagree. */
export function claudeSwitchStatus(claudeHome: string): SwitchStatus {
  return switchStatus('claude', claudeSettingsFile(claudeHome), (text, file) => {
    const url = envBaseUrl(parseClaude(file, text));
    return { enabled: url !== undefined && isLoopbackUrl(url), url };
  });
}

function envBaseUrl(root: Record<string, unknown>): string | undefined {
  const env = root.env;
  if (env === null || typeof env !== 'object' || Array.isArray(env)) return undefined;
  const v = (env as Record<string, unknown>).ANTHROPIC_BASE_URL;
  return typeof v === 'string' ? v : undefined;
}

function parseClaude(file: string, text: string): Record<string, unknown> {
  const body = stripBom(text);
  if (body.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    const pos = /position (\d+)/.exec((err as Error).message)?.[1];
    const line = pos === undefined ? body.split('\n').length : body.slice(0, Number(pos)).split('\n').length;
    // V8's message quotes a snippet of the file, which may be a token: report only the line.
    throw new ClientConfigError(
      'CLIENT_CONFIG_INVALID',
      file,
      `${file} is not valid JSON (syntax error on line ${line}); nothing was changed`,
      line,
      { cause: err },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ClientConfigError('CLIENT_CONFIG_INVALID', file, `${file} must hold a JSON object; nothing was changed`);
  }
  const env = (value as Record<string, unknown>).env;
  if (env !== undefined && (env === null || typeof env !== 'object' || Array.isArray(env))) {
    throw new ClientConfigError('CLIENT_CONFIG_UNSUPPORTED', file, `${file}: "env" is not an object; nothing was changed`);
  }
  return value as Record<string, unknown>;
}

// --- Claude settings patch -------------------------------------------------------------------------------

function claudePatch(file: string, text: string, url: string): string {
  const q = JSON.stringify(url);
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (text.trim() === '' || stripBom(text).trim() === '') {
    return `{\n  "env": {\n    "ANTHROPIC_BASE_URL": ${q}\n  }\n}\n`;
  }
  parseClaude(file, text);
  const unit = indentUnit(text);
  const root = scanObject(text, skipJsonWs(text, bom));
  const env = lastMember(root, 'env');
  let out: string;
  if (env) {
    const envObj = scanObject(text, env.valueStart);
    const cur = lastMember(envObj, 'ANTHROPIC_BASE_URL');
    if (cur) {
      if (JSON.parse(text.slice(cur.valueStart, cur.valueEnd)) === url) return text;
      out = text.slice(0, cur.valueStart) + q + text.slice(cur.valueEnd);
    } else {
      out = insertMember(text, envObj, 'ANTHROPIC_BASE_URL', () => q, unit);
    }
  } else {
    out = insertMember(
      text,
      root,
      'env',
      (indent, colon) =>
        indent === undefined
          ? `{"ANTHROPIC_BASE_URL"${colon}${q}}`
          : `{\n${indent}${unit}"ANTHROPIC_BASE_URL"${colon}${q}\n${indent}}`,
      unit,
    );
  }
  JSON.parse(stripBom(out));
  return out;
}

/** Remove our ANTHROPIC_BASE_URL (or put back the previous one); drop an `env` we created once it is empty. */
function removeClaudePatch(text: string, previousUrl: string | undefined, hadEnv: boolean): string {
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (stripBom(text).trim() === '') return text;
  const root = scanObject(text, skipJsonWs(text, bom));
  const env = lastMember(root, 'env');
  if (!env || text[env.valueStart] !== '{') return text;
  const envObj = scanObject(text, env.valueStart);
  const cur = lastMember(envObj, 'ANTHROPIC_BASE_URL');
  if (!cur) return text;
  const curVal: unknown = JSON.parse(text.slice(cur.valueStart, cur.valueEnd));
  if (typeof curVal !== 'string' || !isLoopbackUrl(curVal)) return text;
  if (previousUrl !== undefined) {
    return text.slice(0, cur.valueStart) + JSON.stringify(previousUrl) + text.slice(cur.valueEnd);
  }
  let out = removeMember(text, envObj, envObj.members.indexOf(cur));
  if (!hadEnv && envObj.members.length === 1) {
    const root2 = scanObject(out, skipJsonWs(out, bom));
    const env2 = lastMember(root2, 'env');
    if (env2) out = removeMember(out, root2, root2.members.indexOf(env2));
  }
  return out;
}
