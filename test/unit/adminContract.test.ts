// The admin contract (src/core/adminContract.ts) against README's Admin API table: a path added to the contract
// (and so, by tsc, to the server) without documentation fails here.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ADMIN_PATHS } from '../../src/core/adminContract';

describe('admin contract', () => {
  it('README documents every path of the contract', () => {
    const readme = readFileSync(join(resolve(__dirname, '../../..'), 'README.md'), 'utf8');
    const api = readme.slice(readme.indexOf('## Admin API'), readme.indexOf('## Proxy invariants'));
    const missing = ADMIN_PATHS.filter((p) => !api.includes(`\`${p}`) && !api.includes(` ${p}\``) && !api.includes(`\`${p}\``));
    assert.deepEqual(missing, []);
  });

  it('has no duplicate paths', () => {
    assert.equal(new Set(ADMIN_PATHS).size, ADMIN_PATHS.length);
  });
});
