#!/usr/bin/env bash
# Installs every tool the build and the tests need, skipping what is already there.
# Usage: scripts/install-tools.sh [build|browsers|all]   (default: all)
# Safe to run again: a second run checks versions and installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-all}"
CARGO_LEPTOS_VERSION=0.3.6          # 0.3.11 needs Rust 1.96; 0.3.6 builds with 1.95
GECKODRIVER_VERSION=0.37.1

log() { printf '\033[1m[install]\033[0m %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif have sudo; then sudo "$@"; else "$@"; fi
}

# wasm-bindgen version pinned by Cargo.lock (the CLI must match it exactly).
lock_wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ {getline; sub(/version = "/, ""); sub(/"/, ""); print; exit}' Cargo.lock
}

install_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  # rustup's minimal profile leaves them out; the test command checks the formatting.
  for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
      log "adding the $component component"
      rustup component add "$component"
    fi
  done

  if ! have cargo-leptos || ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "building cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads) — 15 to 25 minutes on 2 cores"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi

  local wb
  wb="$(lock_wasm_bindgen_version)"
  if ! have wasm-bindgen || ! wasm-bindgen --version 2>/dev/null | grep -q " $wb\$\| $wb "; then
    log "building wasm-bindgen-cli $wb (the version in Cargo.lock)"
    # Not --locked: the registry lacks a crate version its lock file names.
    cargo install wasm-bindgen-cli --version "$wb"
  fi

  if [ ! -d node_modules/binaryen ] || [ ! -x node_modules/.bin/wasm-opt ]; then
    log "installing the root npm packages (binaryen provides wasm-opt)"
    npm ci --no-audit --no-fund
  fi
}

install_browsers() {
  local missing=()
  have chromium || missing+=(chromium)
  have chromedriver || missing+=(chromium-driver)
  have firefox-esr || missing+=(firefox-esr)
  have WebKitWebDriver || missing+=(webkit2gtk-driver)
  have xvfb-run || missing+=(xvfb)
  have xauth || missing+=(xauth)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing from Debian: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if ! have geckodriver; then
    log "building geckodriver $GECKODRIVER_VERSION (not packaged by Debian) — about 5 minutes"
    cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked
  fi
  if [ ! -d end2end/node_modules ]; then
    log "installing the end2end npm packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
}

# The container image's test (scripts/container.sh): podman, and runc (crun, podman's default
# runtime, cannot start a container under this machine's hybrid cgroups).
install_containers() {
  local missing=()
  have podman || missing+=(podman)
  have runc || missing+=(runc)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing from Debian: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq "${missing[@]}"
  fi
}

case "$what" in
  build) install_build_tools ;;
  browsers) install_browsers ;;
  containers) install_containers ;;
  all) install_build_tools; install_browsers; install_containers ;;
  *) echo "usage: $0 [build|browsers|containers|all]" >&2; exit 2 ;;
esac
