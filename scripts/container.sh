#!/usr/bin/env bash
# The container image (Containerfile): `build` makes it from the release build; `check` builds
# it, runs it as `make test` does — read-only root, non-root user, /data on a host folder — and
# waits for its health check to pass, then for /healthz to answer 200 from outside.
#
# Settings (environment):
#   PASSERELLE_IMAGE        image name (default localhost/passerelle:test)
#   PODMAN_RUN_FLAGS        extra `podman run` flags. The default fits this machine (see README,
#                           "Deploying"): runc, because crun stops with "cgroups in hybrid mode not
#                           supported", and limits below the sandbox's own, because setting them at
#                           its level is refused ("setrlimit `RLIMIT_NOFILE`: Operation not permitted")
set -euo pipefail
cd "$(dirname "$0")/.."

image="${PASSERELLE_IMAGE:-localhost/passerelle:test}"
read -ra run_flags <<<"${PODMAN_RUN_FLAGS:---ulimit nofile=4096:4096 --ulimit nproc=4096:4096}"
podman_global=(--runtime "${PODMAN_RUNTIME:-runc}")

build() {
  local exe=target/release/passerelle
  [ -x "$exe" ] && [ -d target/site/pkg ] || { echo "container: build the release first (cargo leptos build --release --split --precompress)" >&2; exit 1; }
  local context=target/container
  rm -rf "$context"; mkdir -p "$context/root/usr/local/bin" "$context/root/etc/passerelle" "$context/root/etc/ssl/certs" "$context/root/data" "$context/root/tmp"
  cp "$exe" "$context/root/usr/local/bin/passerelle"
  [ -f target/release/hash.txt ] && cp target/release/hash.txt "$context/root/usr/local/bin/hash.txt"
  cp -r target/site "$context/root/site"
  cp /etc/ssl/certs/ca-certificates.crt "$context/root/etc/ssl/certs/"
  # The libraries the binary links, from this machine's Debian packages (the loader included).
  ldd "$exe" | grep -o '/[^ ]*' | sort -u | while read -r lib; do cp -L --parents "$lib" "$context/root/"; done
  printf 'root:x:0:0:root:/:/nonexistent\npasserelle:x:10001:10001:Passerelle:/data:/nonexistent\n' >"$context/root/etc/passwd"
  printf 'root:x:0:\npasserelle:x:10001:\n' >"$context/root/etc/group"
  chmod 1777 "$context/root/tmp"
  cp Containerfile "$context/"
  podman "${podman_global[@]}" build --format docker -t "$image" "$context"
}

check() {
  build
  # Not local: the EXIT trap reads them after this function has returned.
  data=$(mktemp -d); chown 10001:10001 "$data"
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  name="passerelle-check-$$"
  trap 'podman "${podman_global[@]}" rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$data"' EXIT
  # The image's health check runs on demand (`podman healthcheck run`): no systemd timer here.
  podman "${podman_global[@]}" run -d --name "$name" "${run_flags[@]}" --health-interval disable --read-only --network host -v "$data:/data" \
    -e PASSERELLE_SERVER_LISTEN="127.0.0.1:$port" -e PASSERELLE_SERVER_BASE_URL="http://127.0.0.1:$port" "$image" >/dev/null 2>"$data.podman.log" \
    || { cat "$data.podman.log" >&2; exit 1; }
  # (Without systemd, podman logs that it cannot set a timer for the health check: kept aside.)
  rm -f "$data.podman.log"
  local healthy=""
  for _ in $(seq 1 100); do
    if podman "${podman_global[@]}" healthcheck run "$name" >/dev/null 2>&1; then healthy=1; break; fi
    [ "$(podman "${podman_global[@]}" inspect -f '{{.State.Running}}' "$name")" = true ] || break
    sleep 0.2
  done
  if [ -z "$healthy" ]; then
    echo "container: the health check never passed; the container's log:" >&2
    podman "${podman_global[@]}" logs "$name" >&2 || true
    exit 1
  fi
  local status user readonly
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
  user=$(podman "${podman_global[@]}" inspect -f '{{.Config.User}}' "$name")
  readonly=$(podman "${podman_global[@]}" inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$name")
  echo "container: /healthz $status, user $user, read-only root $readonly, files in /data: $(ls "$data" | tr '\n' ' ')"
  [ "$status" = 200 ] && [ "$user" = 10001:10001 ] && [ "$readonly" = true ] && [ -f "$data/passerelle.db" ]
}

case "${1:-}" in
  build) build ;;
  check) check ;;
  *) echo "usage: $0 build|check" >&2; exit 2 ;;
esac
