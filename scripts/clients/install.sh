#!/usr/bin/env bash
# Idempotent installer for the real-client acceptance run (test/clients/run.mjs): Codex CLI + Claude Code,
# pinned, into <repo>/.e2e/clients (git-ignored). Nothing is written to ~ except npm's cache.
# Usage: scripts/clients/install.sh        Env: CLIENTS_DIR (default <repo>/.e2e/clients)
set -euo pipefail

# Pinned on purpose: on Node 20 an unpinned claude-code silently resolves to 2.1.197 (engines >=22 from 2.1.198).
CODEX_VERSION=0.169.0
CLAUDE_VERSION=2.1.332

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=${CLIENTS_DIR:-$REPO/.e2e/clients}
NM=$DIR/node_modules

T_ALL=$(date +%s.%N)
TIMINGS=()
step_start() { T0=$(date +%s.%N); echo "==> $1"; }
step_end() { local dt; dt=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'); TIMINGS+=("$(printf '%-40s %8ss' "$1" "$dt")"); }

pkg_version() { [ -f "$NM/$1/package.json" ] && node -p "require('$NM/$1/package.json').version" 2>/dev/null || echo none; }

mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || echo '{"name":"codex-helper-client-e2e","private":true}' > "$DIR/package.json"

# 1. npm packages (skipped when both pins are already there)
step_start "@openai/codex@$CODEX_VERSION @anthropic-ai/claude-code@$CLAUDE_VERSION"
have_codex=$(pkg_version @openai/codex); have_claude=$(pkg_version @anthropic-ai/claude-code)
if [ "$have_codex" = "$CODEX_VERSION" ] && [ "$have_claude" = "$CLAUDE_VERSION" ]; then
  echo "    already installed"; step_end "npm (present)"
else
  echo "    installed: codex=$have_codex claude=$have_claude"
  (cd "$DIR" && npm install --save-exact --no-audit --no-fund \
    "@openai/codex@$CODEX_VERSION" "@anthropic-ai/claude-code@$CLAUDE_VERSION")
  step_end "npm install"
fi

# 2. Claude's postinstall hard-links the native binary over a ~500-byte shell stub; redo it if it did not run.
step_start "claude native binary"
CLAUDE_EXE=$NM/@anthropic-ai/claude-code/bin/claude.exe
if [ -f "$CLAUDE_EXE" ] && [ "$(stat -c %s "$CLAUDE_EXE")" -gt 1000000 ]; then
  echo "    present"; step_end "claude postinstall (present)"
else
  (cd "$NM/@anthropic-ai/claude-code" && node install.cjs)
  step_end "claude install.cjs"
fi

# 3. Smoke: both binaries report the pinned versions.
step_start "versions"
codex_v=$("$NM/.bin/codex" --version </dev/null)
claude_v=$(env -i PATH=/usr/bin:/bin HOME="$DIR/.home" DISABLE_AUTOUPDATER=1 "$NM/.bin/claude" --version </dev/null)
echo "    $codex_v | claude $claude_v"
case "$codex_v" in *"$CODEX_VERSION"*) ;; *) echo "codex version mismatch: $codex_v" >&2; exit 1;; esac
case "$claude_v" in *"$CLAUDE_VERSION"*) ;; *) echo "claude version mismatch: $claude_v" >&2; exit 1;; esac
step_end "version check"

echo
echo "timings:"
for t in "${TIMINGS[@]}"; do echo "  $t"; done
printf '  %-40s %8ss\n' total "$(awk -v a="$T_ALL" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
echo "binaries: $NM/.bin/codex  $NM/.bin/claude"
