import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatRequestLogLine, redactHeaders, redactText } from '../../src/core/requestLog';
import { RequestLogWriter, retryTraceWriter } from '../../src/io/requestLogWriter';
import { readEnvOptions } from '../../src/core/envOptions';
import type { RequestLogRecord } from '../../src/core/requestLog';

const KEY = 'sk-proj-abcdefghijklmnop1234567890';
const CUSTOM_SECRET = 'relay-secret-value-42';

function rec(o: Partial<RequestLogRecord> = {}): RequestLogRecord {
  return { service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 12, ...o };
}

function readLines(file: string): Array<Record<string, unknown>> {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('requestLog', () => {
  let root: string;
  let n = 0;
  const freshDir = (): string => path.join(root, `logs-${n++}`);
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'reqlog-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  describe('formatRequestLogLine', () => {
    it('keeps the seed field order, fills "-" defaults and omits absent fields', () => {
      const line = formatRequestLogLine(rec({
        auth_resolution: { authorization: 'env:OPENAI_API_KEY' }, error_class: 'x', retry: { attempts: 2, upstream_chain: ['a', 'b'] },
        usage: { input_tokens: 1, output_tokens: 2, reasoning_tokens: 0, total_tokens: 3 }, model: 'gpt-5', mapped_model: 'm',
        reasoning_effort: 'high', cwd: '/w', session_id: 's', provider_id: 'p', ttfb_ms: 4,
      }), 777);
      assert.deepEqual(Object.keys(JSON.parse(line) as object), [
        'timestamp_ms', 'service', 'method', 'path', 'status_code', 'duration_ms', 'ttfb_ms', 'config_name', 'provider_id',
        'upstream_base_url', 'session_id', 'cwd', 'reasoning_effort', 'model', 'mapped_model', 'usage', 'retry',
        'error_class', 'auth_resolution',
      ]);
      const min = JSON.parse(formatRequestLogLine(rec(), 5)) as Record<string, unknown>;
      assert.deepEqual(min, {
        timestamp_ms: 5, service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 12,
        config_name: '-', upstream_base_url: '-',
      });
    });

    it('logs auth sources but never a credential passed by mistake', () => {
      const line = formatRequestLogLine(rec({ auth_resolution: { authorization: `Bearer ${KEY}`, x_api_key: KEY } }), 1);
      assert.ok(!line.includes(KEY));
      assert.ok(!line.includes('auth_resolution'));
    });
  });

  describe('redaction', () => {
    it('redacts credential headers and name patterns, keeping others', () => {
      const out = redactHeaders({
        Authorization: `Bearer ${KEY}`, 'x-api-key': KEY, cookie: 'a=b', 'set-cookie': ['c=d', 'e=f'], 'X-Goog-Api-Key': KEY,
        'x-custom-token': 'tok', 'x-my-secret': 's', 'x-apikey': 'k', 'content-type': 'application/json', missing: undefined,
      });
      assert.deepEqual(out, [
        { name: 'Authorization', value: '[REDACTED]' },
        { name: 'x-api-key', value: '[REDACTED]' },
        { name: 'cookie', value: '[REDACTED]' },
        { name: 'set-cookie', value: '[REDACTED]' },
        { name: 'set-cookie', value: '[REDACTED]' },
        { name: 'X-Goog-Api-Key', value: '[REDACTED]' },
        { name: 'x-custom-token', value: '[REDACTED]' },
        { name: 'x-my-secret', value: '[REDACTED]' },
        { name: 'x-apikey', value: '[REDACTED]' },
        { name: 'content-type', value: 'application/json' },
      ]);
      assert.ok(!JSON.stringify(out).includes(KEY));
    });

    it('removes known secrets, bearer tokens and sk- keys from text', () => {
      const text = `auth=Bearer abc.def-ghi key=${KEY} relay=${CUSTOM_SECRET} twice=${CUSTOM_SECRET} short=abc`;
      const out = redactText(text, [CUSTOM_SECRET, 'abc', '']);
      assert.ok(!out.includes(KEY));
      assert.ok(!out.includes(CUSTOM_SECRET));
      assert.ok(!out.includes('abc.def-ghi'));
      assert.ok(out.includes('Bearer [REDACTED]'));
      assert.ok(out.includes('short=abc'), 'secrets shorter than 8 chars are not blanked everywhere');
    });
  });

  describe('RequestLogWriter', () => {
    it('batches writes asynchronously and appends them in order', async () => {
      const dir = freshDir();
      const w = new RequestLogWriter({ dir, flushIntervalMs: 10_000, now: () => 42 });
      w.write(rec({ duration_ms: 1 }));
      w.write(rec({ duration_ms: 2, timestamp_ms: 7 }));
      assert.equal(fs.existsSync(w.file), false, 'write() does not touch the disk');
      await w.flush();
      w.write(rec({ duration_ms: 3 }));
      await w.close();
      w.write(rec({ duration_ms: 4 }));
      await w.flush();
      const lines = readLines(path.join(dir, 'requests.jsonl'));
      assert.deepEqual(lines.map((l) => l.duration_ms), [1, 2, 3]);
      assert.deepEqual(lines.map((l) => l.timestamp_ms), [42, 7, 42]);
    });

    it('a flush first takes what beforeFlush hands over (records whose accounting still waited)', async () => {
      const dir = freshDir();
      const w = new RequestLogWriter({ dir, flushIntervalMs: 10_000 });
      const waiting = [rec({ duration_ms: 2 }), rec({ duration_ms: 3 })];
      w.beforeFlush = () => {
        for (const r of waiting.splice(0)) w.write(r);
      };
      w.write(rec({ duration_ms: 1 }));
      await w.flush();
      assert.deepEqual(readLines(path.join(dir, 'requests.jsonl')).map((l) => l.duration_ms), [1, 2, 3]);
      await w.close();
    });

    it('formats records with their batch, stamped with the time they were written, in order with plain events', async () => {
      const dir = freshDir();
      let now = 100;
      const w = new RequestLogWriter({ dir, flushIntervalMs: 10_000, now: () => now });
      w.write(rec({ duration_ms: 1 }));
      now = 200;
      w.writeEvent({ event: 'between' });
      now = 300;
      w.write(rec({ duration_ms: 2 }));
      now = 999;
      await w.close();
      const lines = readLines(w.file);
      assert.deepEqual(lines.map((l) => l.duration_ms ?? l.event), [1, 'between', 2]);
      assert.deepEqual(lines.map((l) => l.timestamp_ms ?? l.ts_ms), [100, 200, 300]);
    });

    it('keeps every line whole and in order across its encode buffers, multi-byte text included', async () => {
      const dir = freshDir();
      const w = new RequestLogWriter({ dir, flushIntervalMs: 10_000, maxQueue: 100_000 });
      // ~1.6 MB of lines: several 256 KiB buffers, lines cut at no boundary; CJK and emoji are 3–4 bytes each.
      const cwd = '/home/用户/项目-🚀-'.repeat(20);
      for (let i = 0; i < 3000; i++) w.write(rec({ duration_ms: i, cwd, route_note: 'x'.repeat(i % 700) }));
      await w.flush();
      for (let i = 3000; i < 3100; i++) w.write(rec({ duration_ms: i, cwd }));
      await w.close();
      const lines = readLines(w.file);
      assert.equal(lines.length, 3100);
      assert.deepEqual(lines.map((l) => l.duration_ms), Array.from({ length: 3100 }, (_, i) => i));
      assert.ok(lines.every((l) => l.cwd === cwd));
      assert.equal(w.dropped, 0);
    });

    it('flushes by itself after the interval', async () => {
      const dir = freshDir();
      const w = new RequestLogWriter({ dir, flushIntervalMs: 1 });
      w.write(rec());
      for (let i = 0; i < 200 && !fs.existsSync(w.file); i++) await new Promise((r) => setTimeout(r, 5));
      await w.close();
      assert.equal(readLines(w.file).length, 1);
    });

    it('skips 2xx lines with onlyErrors and drops lines past the queue bound', async () => {
      const dir = freshDir();
      const w = new RequestLogWriter({ dir, onlyErrors: true, maxQueue: 2, flushIntervalMs: 10_000 });
      w.write(rec({ status_code: 200 }));
      w.write(rec({ status_code: 502 }));
      w.write(rec({ status_code: 429 }));
      w.write(rec({ status_code: 500 }));
      await w.close();
      assert.deepEqual(readLines(w.file).map((l) => l.status_code), [502, 429]);
      assert.equal(w.dropped, 1);
    });

    it('with onlyErrors keeps a 200 that failed in-band (it has an error class)', async () => {
      const dir = freshDir();
      const w = new RequestLogWriter({ dir, onlyErrors: true, flushIntervalMs: 10_000 });
      w.write(rec({ status_code: 200 }));
      w.write(rec({ status_code: 200, error_class: 'overloaded', error_message: 'server_is_overloaded: busy' }));
      await w.close();
      const lines = readLines(w.file);
      assert.deepEqual(lines.map((l) => [l.status_code, l.error_class, l.error_message]), [[200, 'overloaded', 'server_is_overloaded: busy']]);
    });

    it('counts what it appends between size checks and sees a file truncated by someone else at the next check', async () => {
      const dir = freshDir();
      let t = 1_700_000_000_000;
      // Lines of ~1 KB: counted alone, the second and third lines would reach maxBytes and rotate.
      const note = 'n'.repeat(1000);
      const w = new RequestLogWriter({ dir, maxBytes: 1500, maxFiles: 2, flushIntervalMs: 10_000, now: () => t });
      w.write(rec({ duration_ms: 1, route_note: note }));
      await w.flush();
      // Truncated behind the writer's back: until the next check the writer still counts the old size…
      fs.truncateSync(w.file, 0);
      t += 6000;
      // …and at the next check it reads the real size again, so nothing is rotated for a near-empty file.
      for (let i = 2; i <= 3; i++) {
        w.write(rec({ duration_ms: i, route_note: note }));
        await w.flush();
      }
      await w.close();
      assert.deepEqual(fs.readdirSync(dir).filter((n) => n !== 'requests.jsonl'), []);
      assert.deepEqual(readLines(w.file).map((l) => l.duration_ms), [2, 3]);
    });

    it('rotates before appending when the file reached maxBytes and keeps maxFiles rotated files', async () => {
      const dir = freshDir();
      let t = 1_700_000_000_000;
      const w = new RequestLogWriter({ dir, maxBytes: 50, maxFiles: 2, flushIntervalMs: 10_000, now: () => t });
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'requests_debug.jsonl'), 'other file\n');
      fs.writeFileSync(path.join(dir, 'requests.backup.jsonl'), 'not a rotation\n');
      for (let i = 0; i < 5; i++) {
        w.write(rec({ duration_ms: i }));
        await w.flush();
        t += 1000;
      }
      await w.close();
      const names = fs.readdirSync(dir).sort();
      assert.deepEqual(names, [
        'requests.1700000003000.jsonl', 'requests.1700000004000.jsonl', 'requests.backup.jsonl', 'requests.jsonl',
        'requests_debug.jsonl',
      ]);
      assert.deepEqual(readLines(path.join(dir, 'requests.jsonl')).map((l) => l.duration_ms), [4]);
      assert.deepEqual(readLines(path.join(dir, 'requests.1700000004000.jsonl')).map((l) => l.duration_ms), [3]);
    });

    it('scrubs known secrets from lines that carry http_debug', async () => {
      const dir = freshDir();
      const w = new RequestLogWriter({ dir, flushIntervalMs: 10_000, secrets: () => [CUSTOM_SECRET] });
      w.write(rec({ status_code: 401, http_debug: { upstream_response_body: { data: `invalid key ${CUSTOM_SECRET} / ${KEY}` } } }));
      await w.close();
      const text = fs.readFileSync(w.file, 'utf8');
      assert.ok(!text.includes(CUSTOM_SECRET));
      assert.ok(!text.includes(KEY));
      assert.ok(text.includes('[REDACTED]'));
    });

    it('reports write errors instead of throwing', async () => {
      const file = path.join(root, 'a-file');
      fs.writeFileSync(file, 'x');
      const errors: unknown[] = [];
      const w = new RequestLogWriter({ dir: path.join(file, 'logs'), flushIntervalMs: 10_000, onError: (e) => errors.push(e) });
      w.write(rec());
      await w.close();
      assert.equal(errors.length, 1);
    });
  });

  describe('retryTraceWriter', () => {
    it('is off by default and writes retry_trace.jsonl events with ts_ms when enabled', async () => {
      assert.equal(retryTraceWriter({ dir: freshDir() }, readEnvOptions({})), undefined);
      const dir = freshDir();
      const w = retryTraceWriter({ dir, now: () => 9, flushIntervalMs: 10_000 }, readEnvOptions({ CODEX_HELPER_RETRY_TRACE: '1' }));
      assert.ok(w);
      w.writeEvent({ event: 'attempt_select', config: 'a' });
      w.writeEvent({ ts_ms: 1, event: 'retry_options' });
      await w.close();
      assert.deepEqual(readLines(path.join(dir, 'retry_trace.jsonl')), [
        { ts_ms: 9, event: 'attempt_select', config: 'a' },
        { ts_ms: 1, event: 'retry_options' },
      ]);
    });
  });
});
