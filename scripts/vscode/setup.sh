#!/usr/bin/env bash
# Installs what the real-VS-Code integration tests need (test/vscode/run.ts):
#   - Debian's chromium (the workbench runs in it, driven by playwright-core),
#   - the VS Code server build shipped inside the npm package code-server,
#     in a folder of its own with its own package.json, so that the project's
#     `npm ci` never needs the native toolchain and system libraries it builds with.
# Idempotent and quick when everything is present. Non-interactive; needs root for
# apt (CI runs it as root). Only the npm registry and Debian's apt are reached.
#
# Environment:
#   TCPTRACE_VSCODE_CACHE  where to install (default: ~/.cache/tcptrace-vscode, kept
#                          outside the work tree so that fresh clones, as CI makes,
#                          reuse an install already on the machine)
#   CODE_SERVER_VERSION    default 4.100.3 (VS Code 1.100.3, the newest on Node 20)
set -euo pipefail

started_us=${EPOCHREALTIME/./}
elapsed() { local us=$((${EPOCHREALTIME/./} - started_us)); printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000)); }
say() { printf '[setup:vscode %5ss] %s\n' "$(elapsed)" "$*"; }

CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.100.3}"
CACHE="${TCPTRACE_VSCODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tcptrace-vscode}"
DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
VSCODE="$DIR/node_modules/code-server/lib/vscode"
MARKER="$DIR/.installed"

# Debian packages: chromium for the workbench; the rest are what code-server's native
# modules build against (kerberos, native-keymap, keytar-like secret storage, ...),
# ripgrep to stand in for @vscode/ripgrep's GitHub download, fonts for legible screenshots,
# unzip to unpack a .vsix for `run.ts --vsix`.
APT_PACKAGES=(chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config
  build-essential ripgrep fonts-dejavu-core unzip)

# @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache already holds
# the archive. These must match the @vscode/ripgrep that code-server pins.
RIPGREP_PACKAGE_VERSION=1.15.11
RIPGREP_RELEASE=v13.0.0-10

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

installed_ok() {
  [ -f "$MARKER" ] && [ -f "$VSCODE/out/server-main.js" ] &&
    [ -x "$VSCODE/node_modules/@vscode/ripgrep/bin/rg" ] &&
    [ "$(cat "$MARKER")" = "code-server@$CODE_SERVER_VERSION node-$(node -p process.versions.modules)" ]
}

if [ ${#missing[@]} -eq 0 ] && installed_ok; then
  say "already installed: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), code-server@$CODE_SERVER_VERSION in $DIR"
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup:vscode: missing Debian packages: ${missing[*]}" >&2
    echo "  install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  say "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt may be running (other jobs on the machine): wait for its lock.
  apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  apt-get "${apt_opts[@]}" update -qq
  apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  say "apt: done"
fi

if installed_ok; then
  say "code-server@$CODE_SERVER_VERSION already in $DIR"
  exit 0
fi

mkdir -p "$CACHE"
# Two setups at once (a developer and a test run) would corrupt one install.
exec 9>"$CACHE/.setup.lock"
flock 9
if installed_ok; then say "installed meanwhile by another run"; exit 0; fi

say "npm: installing code-server@$CODE_SERVER_VERSION into $DIR (about a minute)"
rm -rf "$DIR"
mkdir -p "$DIR/tmp"
cat >"$DIR/package.json" <<JSON
{
  "name": "tcptrace-vscode-test-server",
  "private": true,
  "description": "VS Code server (from code-server) for tcptrace's integration tests; installed by scripts/vscode/setup.sh",
  "dependencies": { "code-server": "$CODE_SERVER_VERSION" }
}
JSON

case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) echo "setup:vscode: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
# A private TMPDIR makes the ripgrep cache location ours (os.tmpdir() reads TMPDIR).
export TMPDIR="$DIR/tmp"
rg_cache="$TMPDIR/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION"
mkdir -p "$rg_cache/stage"
cp "$(command -v rg)" "$rg_cache/stage/rg"
tar -C "$rg_cache/stage" -czf "$rg_cache/ripgrep-$RIPGREP_RELEASE-$rg_target.tar.gz" rg
rm -rf "$rg_cache/stage"

# As root npm drops privileges for lifecycle scripts unless told not to; code-server's
# postinstall also runs npx, which must not prompt.
export npm_config_unsafe_perm=true npm_config_yes=true
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# node-gyp builds code-server's native modules; it must use the installed Node's headers
# rather than download them (the machine's npm config usually says so already).
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi
log="$DIR/npm-install.log"
if ! (cd "$DIR" && npm install --no-save --loglevel=error >"$log" 2>&1); then
  echo "setup:vscode: npm install of code-server@$CODE_SERVER_VERSION failed; last lines of $log:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi

if [ ! -f "$VSCODE/out/server-main.js" ]; then
  echo "setup:vscode: $VSCODE/out/server-main.js is missing after install (see $log)" >&2
  exit 1
fi
if [ ! -x "$VSCODE/node_modules/@vscode/ripgrep/bin/rg" ]; then
  echo "setup:vscode: ripgrep was not installed into VS Code (see $log); does code-server" >&2
  echo "  still pin @vscode/ripgrep@$RIPGREP_PACKAGE_VERSION ($RIPGREP_RELEASE)?" >&2
  exit 1
fi
rm -rf "$TMPDIR"
echo "code-server@$CODE_SERVER_VERSION node-$(node -p process.versions.modules)" >"$MARKER"
say "installed VS Code $(node -p "require('$VSCODE/package.json').version") (code-server@$CODE_SERVER_VERSION) in $DIR"
