// The bundles node runs are Latin-1 throughout, so V8 holds each one's source at one byte per character (one
// character above U+00FF anywhere, even in a comment, makes it two bytes for the life of the process).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const DIST = resolve(__dirname, '../../../dist');

describe('bundles', () => {
  for (const name of ['cli.js', 'proxyWorker.js', 'extension.js']) {
    it(`dist/${name} holds no character above U+00FF`, () => {
      const text = readFileSync(resolve(DIST, name), 'utf8');
      const at = text.search(/[^\u0000-\u00ff]/);
      assert.equal(at, -1, `dist/${name}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}`);
    });
  }
});
