// Mocha entry for the extension-host suite. VS Code calls run() after loading the extension under test; the
// bundled *.test.js files sit next to this file (see scripts/e2e/bundleSuite.mjs).
import Mocha from 'mocha';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';

/** Outcome written to E2E_RESULT_FILE so the harness need not trust console capture alone. */
interface SuiteResult {
  passes: number;
  failures: number;
  pending: number;
  failed: string[];
}

/** Tees reporter output into a file: the extension host's console only reaches the harness mixed with workbench logs. */
function teeReporterOutput(file: string): void {
  const base = Mocha.reporters.Base;
  const original = base.consoleLog;
  writeFileSync(file, '');
  base.consoleLog = (...data: unknown[]) => {
    original(...data);
    appendFileSync(file, `${format(...data)}\n`);
  };
}

/** Runs every bundled *.test.js under this folder; rejects when a test fails or none is found. */
export function run(): Promise<void> {
  const grep = process.env['E2E_GREP'];
  const logFile = process.env['E2E_MOCHA_LOG'];
  if (logFile) teeReporterOutput(logFile);
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false,
    timeout: Number(process.env['E2E_MOCHA_TEST_TIMEOUT'] ?? 30000),
    ...(grep ? { grep } : {}),
  });
  const files = readdirSync(__dirname, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  // The extension host runs without --enable-source-maps; the bundles carry inline maps.
  process.setSourceMapsEnabled(true);
  for (const f of files) mocha.addFile(join(__dirname, f));

  return new Promise((resolve, reject) => {
    if (files.length === 0) {
      reject(new Error(`no *.test.js files in ${__dirname}`));
      return;
    }
    const result: SuiteResult = { passes: 0, failures: 0, pending: 0, failed: [] };
    const runner = mocha.run((failures) => {
      const out = process.env['E2E_RESULT_FILE'];
      if (out) writeFileSync(out, JSON.stringify(result));
      if (failures > 0) reject(new Error(`${failures} test(s) failed`));
      else if (result.passes === 0) reject(new Error('no test ran'));
      else resolve();
    });
    runner.on('pass', () => result.passes++);
    runner.on('pending', () => result.pending++);
    runner.on('fail', (test, err: unknown) => {
      result.failures++;
      result.failed.push(`${test.fullTitle()}: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
}
