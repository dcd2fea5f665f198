#!/usr/bin/env bash
# The page that never answered (README, "Notes"): its reproduction and the stress check.
#
#   bench/unanswered.sh repro [N]   run the integration binary's shell:: tests N times (default
#                                   500), two processes at a time, as the defect was first met;
#                                   prints how many runs left a request unanswered (timeout 30 s).
#                                   Before the fix: 7 of 400 runs. After: see bench/README.md.
#   bench/unanswered.sh stress [N]  run the whole integration binary N times in a row (default 10)
#                                   while browser specs (Chromium and Firefox, in a loop) load the
#                                   machine against the release server; fails on any failed run.
#
# Not part of `make test` (minutes to an hour). Needs what `make test` installs; `stress` also
# needs PostgreSQL on 127.0.0.1:5432 and builds the release site.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
mode="${1:-repro}"
runs_dir=$(mktemp -d)
trap 'rm -rf "$runs_dir"' EXIT

# The integration binary: the artifact of the `api` test target (cargo also lists the server's
# own binary, which integration tests need, in an order that varies between builds).
test_binary() {
  cargo test -p server --test api --locked --no-run --message-format=json 2>/dev/null \
    | node -e 'for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
        const m = line.startsWith("{") && JSON.parse(line);
        if (m && m.executable && m.target.name === "api" && m.target.kind.includes("test")) console.log(m.executable);
      }' | tail -1
}

case "$mode" in
repro)
  n="${2:-500}"
  bin=$(test_binary); (cd server && "$bin" --list 2>/dev/null | grep -q ": test$") || { echo "cannot build the integration binary" >&2; exit 2; }
  unanswered=0
  for i in $(seq 1 "$n"); do
    for j in 1 2; do
      (cd server && timeout 30 "$bin" shell:: --test-threads 2 >"$runs_dir/$i-$j.log" 2>&1; echo $? >"$runs_dir/$i-$j.rc") &
    done
    wait
    for j in 1 2; do
      rc=$(cat "$runs_dir/$i-$j.rc")
      if [ "$rc" != 0 ]; then
        unanswered=$((unanswered + 1))
        echo "run $i.$j: exit $rc"; grep -E "panicked|FAILED" "$runs_dir/$i-$j.log" | head -3
      fi
    done
  done
  echo "unanswered or failed: $unanswered of $((2 * n)) runs"
  [ "$unanswered" = 0 ]
  ;;
stress)
  n="${2:-10}"
  export PASSERELLE_TEST_POSTGRES="${PASSERELLE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
  bin=$(test_binary); (cd server && "$bin" --list 2>/dev/null | grep -q ": test$") || { echo "cannot build the integration binary" >&2; exit 2; }
  # A copy, so that a build started meanwhile (same target directory) cannot replace it mid-check.
  cp "$bin" "$runs_dir/api" && bin="$runs_dir/api"
  cargo leptos build --release --split --precompress >/dev/null 2>&1 || { echo "release build failed" >&2; exit 2; }
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  env PASSERELLE_CONFIG=/dev/null PASSERELLE_SERVER_LISTEN="127.0.0.1:$port" PASSERELLE_SERVER_BASE_URL="http://127.0.0.1:$port" \
    PASSERELLE_DATABASE_URL="sqlite://$runs_dir/load.db" PASSERELLE_STORAGE_FILES_DIR="$runs_dir/files" \
    PASSERELLE_ACCOUNTS_REGISTRATIONS_PER_IP_PER_HOUR=100000 LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=passerelle \
    target/release/passerelle serve >"$runs_dir/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  # The load: browser specs over and over until the integration runs are done.
  ( while :; do (cd end2end && node run.mjs --base-url "http://127.0.0.1:$port" --engines chromium,firefox >/dev/null 2>&1); done ) &
  load=$!
  trap 'kill -- -$load 2>/dev/null; pkill -P $load 2>/dev/null; kill $server 2>/dev/null; rm -rf "$runs_dir"' EXIT
  failed=0
  for i in $(seq 1 "$n"); do
    start=$(date +%s)
    (cd server && "$bin" >"$runs_dir/run-$i.log" 2>&1); rc=$?
    summary=$(grep -E "^test result" "$runs_dir/run-$i.log" | tail -1)
    timeouts=$(grep -c "TimedOut\|timed out" "$runs_dir/run-$i.log")
    echo "run $i: exit $rc in $(( $(date +%s) - start )) s, $timeouts timeouts — $summary"
    if [ "$rc" != 0 ]; then failed=$((failed + 1)); grep -E "panicked|FAILED" "$runs_dir/run-$i.log" | head -5; fi
  done
  kill $load 2>/dev/null; pkill -f "end2end.*run.mjs" 2>/dev/null
  echo "failed runs: $failed of $n"
  [ "$failed" = 0 ]
  ;;
*) sed -n 2,13p "$0"; exit 2 ;;
esac
