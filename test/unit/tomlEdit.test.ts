import * as assert from 'node:assert/strict';
import { parse } from 'smol-toml';
import {
  TomlEditError,
  formatTomlKey,
  formatTomlValue,
  readTomlValue,
  removeTable,
  removeTableKey,
  removeTopLevelKey,
  setTableKeys,
  setTopLevelKey,
} from '../../src/core/tomlEdit';

const TABLE = ['model_providers', 'codex_proxy'];

describe('tomlEdit', () => {
  describe('setTopLevelKey', () => {
    it('edits the value in place, keeping spacing and trailing comment', () => {
      const src = '# hi\nmodel_provider   =   "openai"   # mine\nmodel = "gpt-5"\n';
      assert.equal(
        setTopLevelKey(src, 'model_provider', 'codex_proxy'),
        '# hi\nmodel_provider   =   "codex_proxy"   # mine\nmodel = "gpt-5"\n',
      );
    });

    it('leaves the text alone when the value is already equal (even in literal-string form)', () => {
      const src = "model_provider = 'codex_proxy'\n";
      assert.equal(setTopLevelKey(src, 'model_provider', 'codex_proxy'), src);
    });

    it('inserts after the last top-level key, before the first table', () => {
      const src = 'model = "gpt-5"\napproval_policy = "never"\n\n[profiles.y]\nmodel = "o3"\n';
      assert.equal(
        setTopLevelKey(src, 'model_provider', 'codex_proxy'),
        'model = "gpt-5"\napproval_policy = "never"\nmodel_provider = "codex_proxy"\n\n[profiles.y]\nmodel = "o3"\n',
      );
    });

    it('inserts above the comment block that belongs to the first table, with a blank line after', () => {
      const src = '# file header\n\n# my profile\n[profiles.y]\nmodel = "o3"\n';
      assert.equal(
        setTopLevelKey(src, 'model_provider', 'x'),
        '# file header\n\nmodel_provider = "x"\n\n# my profile\n[profiles.y]\nmodel = "o3"\n',
      );
    });

    it('does not mistake keys inside multi-line strings and arrays for statements', () => {
      const src = 'a = """\n[not.a.table]\nmodel_provider = "no"\n"""\nb = [\n  "x", # c ]\n  "y",\n]\n[t]\nk = 1\n';
      const out = setTopLevelKey(src, 'model_provider', 'codex_proxy');
      assert.equal(out, src.replace(']\n[t]', ']\nmodel_provider = "codex_proxy"\n[t]'));
      assert.equal(readTomlValue(out, ['a']), '[not.a.table]\nmodel_provider = "no"\n');
    });

    it('keeps CRLF line endings', () => {
      const src = 'model = "gpt-5"\r\n\r\n[t]\r\nk = 1\r\n';
      const out = setTopLevelKey(src, 'model_provider', 'p');
      assert.equal(out, 'model = "gpt-5"\r\nmodel_provider = "p"\r\n\r\n[t]\r\nk = 1\r\n');
    });

    it('handles an empty document and one without a final newline', () => {
      assert.equal(setTopLevelKey('', 'k', 'v'), 'k = "v"\n');
      assert.equal(setTopLevelKey('a = 1', 'k', 'v'), 'a = 1\nk = "v"\n');
    });

    it('refuses to overwrite a table', () => {
      assert.throws(
        () => setTopLevelKey('[model_provider]\nx = 1\n', 'model_provider', 'p'),
        (e: unknown) => e instanceof TomlEditError && e.code === 'TOML_UNSUPPORTED_LAYOUT',
      );
    });

    it('reports the line of a parse error', () => {
      assert.throws(
        () => setTopLevelKey('a = 1\n\nb = = 2\n', 'k', 'v'),
        (e: unknown) => e instanceof TomlEditError && e.code === 'TOML_PARSE' && e.line === 3 && /line 3/.test(e.message),
      );
    });
  });

  describe('setTableKeys', () => {
    const edits = [
      { key: 'name', value: 'codex-helper' },
      { key: 'base_url', value: 'http://127.0.0.1:3211' },
      { key: 'request_max_retries', value: 0, onlyIfAbsent: true },
    ];

    it('creates the table at the end with one blank line before it', () => {
      const out = setTableKeys('[a]\nb = 1\n', TABLE, edits);
      assert.equal(
        out,
        '[a]\nb = 1\n\n[model_providers.codex_proxy]\nname = "codex-helper"\nbase_url = "http://127.0.0.1:3211"\nrequest_max_retries = 0\n',
      );
      assert.equal(setTableKeys('[a]\nb = 1\n\n', TABLE, edits).startsWith('[a]\nb = 1\n\n[model'), true);
    });

    it('updates only its own keys in an existing table and keeps request_max_retries', () => {
      const src = '[model_providers.codex_proxy]\n  name = "old"   # n\n  request_max_retries = 3\n\n[other]\nx = 1\n';
      const out = setTableKeys(src, TABLE, edits);
      assert.equal(
        out,
        '[model_providers.codex_proxy]\n  name = "codex-helper"   # n\n  request_max_retries = 3\n  base_url = "http://127.0.0.1:3211"\n\n[other]\nx = 1\n',
      );
    });

    it('adds keys right after the header of an empty table', () => {
      const src = '[model_providers.codex_proxy]\n[other]\n';
      assert.equal(setTableKeys(src, TABLE, [{ key: 'name', value: 'n' }]), '[model_providers.codex_proxy]\nname = "n"\n[other]\n');
    });

    it('refuses inline tables and dotted keys with a clear error', () => {
      for (const src of [
        '[model_providers]\ncodex_proxy = { name = "x" }\n',
        'model_providers.codex_proxy.name = "x"\n',
        '[model_providers]\ncodex_proxy.name = "x"\n',
      ]) {
        assert.throws(
          () => setTableKeys(src, TABLE, edits),
          (e: unknown) =>
            e instanceof TomlEditError && e.code === 'TOML_UNSUPPORTED_LAYOUT' && /\[model_providers\.codex_proxy\]/.test(e.message),
          src,
        );
      }
    });

    it('keeps CRLF when creating a table', () => {
      const out = setTableKeys('a = 1\r\n', TABLE, [{ key: 'name', value: 'n' }]);
      assert.equal(out, 'a = 1\r\n\r\n[model_providers.codex_proxy]\r\nname = "n"\r\n');
    });
  });

  describe('removal', () => {
    it('removeTable + removeTopLevelKey undo an insert', () => {
      const src = '# c\nmodel = "m"\n\n[mcp_servers.x]\ncommand = "npx"\n';
      const on = setTableKeys(setTopLevelKey(src, 'model_provider', 'codex_proxy'), TABLE, [{ key: 'name', value: 'n' }]);
      assert.equal(removeTable(removeTopLevelKey(on, 'model_provider'), TABLE), src);
    });

    it('removeTopLevelKey drops the blank line it was inserted with', () => {
      const src = '[t]\nk = 1\n';
      assert.equal(removeTopLevelKey(setTopLevelKey(src, 'p', 'v'), 'p'), src);
    });

    it('removeTableKey removes one line', () => {
      assert.equal(removeTableKey('[t]\na = 1\nb = 2\n', ['t'], 'a'), '[t]\nb = 2\n');
      assert.equal(removeTableKey('[t]\na = 1\n', ['t'], 'zz'), '[t]\na = 1\n');
    });
  });

  it('formats keys and values as valid TOML', () => {
    const weird = 'a "quoted"\\ \u0001 \u007f é';
    const src = `${formatTomlKey('my.key')} = ${formatTomlValue(weird)}\nb = ${formatTomlValue(true)}\nc = ${formatTomlValue(-1.5)}\n`;
    assert.deepEqual({ ...parse(src) }, { 'my.key': weird, b: true, c: -1.5 });
    assert.equal(formatTomlKey('codex-main_1'), 'codex-main_1');
  });
});
