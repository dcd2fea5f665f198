#!/usr/bin/env bash
# Builds the release site (server + WebAssembly + CSS) and serves it with the embedded defaults:
# http://127.0.0.1:3000, a SQLite file under data/, emails shown at /dev/mailbox.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh build
export PATH="$PWD/node_modules/.bin:$PATH"   # wasm-opt from the npm package binaryen
exec cargo leptos serve --release --split --precompress
