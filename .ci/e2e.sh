#!/usr/bin/env bash
# CI entry for the real-VS-Code e2e suite: install prerequisites, package the extension, run both suites.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/e2e/setup.sh
npm run package
# Bounded: run.mjs has its own watchdog (E2E_TOTAL_TIMEOUT, 900 s); `timeout` is the last resort.
timeout --kill-after=30 1200 node scripts/e2e/run.mjs --vsix codex-helper.vsix "$@"
# The same workbench with the Simplified Chinese bundle (no language pack here: loaded through the extension's t() seam).
CODEX_HELPER_L10N_BUNDLE="$PWD/l10n/bundle.l10n.zh-cn.json" timeout --kill-after=30 600 \
  node scripts/e2e/run.mjs --vsix codex-helper.vsix --only ui --ui-dir test/e2e/ui-l10n --keep-shots
