#!/usr/bin/env bash
# Installs everything baton needs to build, test and run on a fresh Debian
# (bookworm) machine: the C toolchain and libraries from Debian's packages,
# and the Node packages of package-lock.json (tests, benchmarks, web UI).
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  build-essential cmake pkg-config clang clang-format
  libjansson-dev libxml2-dev libsqlite3-dev sqlite3 libpq-dev
  libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libpcre2-dev
  libintelrdfpmath-dev libcmocka-dev tzdata liblz4-dev curl chromium
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js: Debian's nodejs + npm, unless a Node with npm is already there
# (some images ship a nodejs package that bundles npm and conflicts with it).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci when node_modules is missing or older than the lock file.
if [ -f package-lock.json ]; then
  stamp=node_modules/.baton-lock.sha256
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
fi
