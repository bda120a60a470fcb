// The proxy's young-generation cap is one size in every runtime: the node flag `npm start` passes and the worker's
// resource limit give the same semi-space, and a load that grows the young generation stops there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SEMI_SPACE_FLAG, SEMI_SPACE_MB, YOUNG_GENERATION_MB } from '../../src/proxy/heapLimits';

// Keeps 10,000–20,000 small objects alive while allocating millions: every scavenge has survivors, so V8 grows the
// young generation as far as it may. Prints the new space's size (both semi-spaces) in MB.
const CHURN = `
const v8 = require('node:v8');
const keep = [];
for (let i = 0; i < 3e6; i++) { keep.push({ a: i, b: [i] }); if (keep.length > 20000) keep.splice(0, 10000); }
const size = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
`;

function underFlag(flag: string): number {
  return Number(execFileSync(process.execPath, [flag, '-e', `${CHURN} process.stdout.write(String(size));`]).toString());
}

function inWorker(): Promise<number> {
  return new Promise((done, fail) => {
    const w = new Worker(`${CHURN} require('node:worker_threads').parentPort.postMessage(size);`, {
      eval: true,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    w.once('message', (size: number) => {
      done(size);
      void w.terminate();
    });
    w.once('error', fail);
  });
}

describe('heap limits', () => {
  it('npm start passes the cap to node', () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts['start']!, new RegExp(`node ${SEMI_SPACE_FLAG} dist/cli\\.js serve`));
  });

  it('the flag and the worker limit stop the young generation at the same size', async () => {
    const capped = underFlag(SEMI_SPACE_FLAG);
    // The same load with twice the cap grows further: the load reaches the cap, so the cap is what stops it.
    assert.ok(underFlag(`--max-semi-space-size=${2 * SEMI_SPACE_MB}`) > capped, 'the load grows the young generation past the cap');
    assert.ok(capped > 0 && capped <= 2 * SEMI_SPACE_MB, `new space ${capped} MB`);
    assert.equal(await inWorker(), capped);
  });
});
