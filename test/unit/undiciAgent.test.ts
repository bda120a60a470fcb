// undici's Agent is loaded by file path (src/proxy/undiciAgent.ts): this fails the suite, not a user's first
// request, when an undici upgrade moves or changes that file.
import * as assert from 'node:assert/strict';
import { Agent, UndiciLayoutError, asAgentClass } from '../../src/proxy/undiciAgent';

describe('undici Agent by file path', () => {
  it('is the very class the package exports as Agent', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pub = require('undici') as typeof import('undici');
    assert.equal(Agent, pub.Agent);
  });

  it('a moved or changed file is a clear UNDICI_LAYOUT error, not a TypeError later', () => {
    for (const bad of [{}, undefined, () => 1]) {
      assert.throws(() => asAgentClass(bad), (e: unknown) => e instanceof UndiciLayoutError && e.code === 'UNDICI_LAYOUT' && /undiciAgent\.ts/.test(e.message));
    }
  });
});
