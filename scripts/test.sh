#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (SQLite, and PostgreSQL when a server answers on
# 127.0.0.1:5432), the release build and its page-weight budget, then the browser specs in
# Chromium, Firefox and WebKit and, with JavaScript off, in Chromium and Firefox.
# Ends with a summary of what ran; fails if anything failed or something that should run did not.
#
# Settings (environment):
#   PASSERELLE_TEST_POSTGRES     server URL for PostgreSQL tests (default postgres://postgres@127.0.0.1:5432)
#   PASSERELLE_REQUIRE_POSTGRES  1: fail when no PostgreSQL answers (CI sets it)
#   E2E_ENGINES                  engines to run, in groups separated by ';' that run at the same time,
#                                each with its own advisor account (default
#                                chromium,firefox,webkit,chromium-nojs,firefox-nojs: one group, in turn;
#                                two groups at once proved too slow for WebKit on 2 cores)
set -uo pipefail
cd "$(dirname "$0")/.."

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
banner() { printf '\n\033[1;33m%s\033[0m\n' "$*"; }

scripts/install-tools.sh all || { echo "test: installing the tools failed" >&2; exit 1; }
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

status=0
declare -A outcome
# How long each phase took, for the summary (the CI budget is 45 minutes).
declare -A took
phase_start=0
took_since() { took[$1]="$(( (SECONDS - phase_start) / 60 ))m$(( (SECONDS - phase_start) % 60 ))s"; phase_start=$SECONDS; }
took_since tools

# --- PostgreSQL available? ---------------------------------------------------------------------
pg_url="${PASSERELLE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
pg_hostport="${pg_url##*@}"; pg_hostport="${pg_hostport%%/*}"
pg_host="${pg_hostport%%:*}"; pg_port="${pg_hostport##*:}"
if (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null; then
  have_pg=1
  export PASSERELLE_TEST_POSTGRES="$pg_url"
else
  have_pg=0
  banner "################################################################################"
  banner "#  NO POSTGRESQL on $pg_host:$pg_port — the PostgreSQL tests are SKIPPED.              "
  banner "#  Start one (user postgres, trust authentication) to run them.                "
  banner "################################################################################"
fi

# --- Formatting ---------------------------------------------------------------------------------
bold "== Formatting (cargo fmt --all --check, rustfmt.toml) =="
if cargo fmt --all --check >/dev/null; then
  outcome[fmt]=passed
else
  cargo fmt --all --check | head -40
  outcome[fmt]="FAILED (run cargo fmt --all)"; status=1
fi

took_since fmt

# --- Rust: unit + integration ------------------------------------------------------------------
# Not --workspace: building `frontend` alongside would switch on app's `hydrate` feature next to
# `ssr` (Cargo unifies features), and the server would then run browser-only code paths.
bold "== Rust tests (unit and integration) =="
log=$(mktemp)
if [ "$have_pg" = 1 ]; then
  cargo test -p app -p server --locked 2>&1 | tee "$log"; rust_rc=${PIPESTATUS[0]}
else
  cargo test -p app -p server --locked -- --skip postgres 2>&1 | tee "$log"; rust_rc=${PIPESTATUS[0]}
fi
sqlite_ok=$(grep -c '::sqlite \.\.\. ok' "$log" || true)
pg_ok=$(grep -c 'postgres.* \.\.\. ok' "$log" || true)
[ "$rust_rc" = 0 ] || status=1
outcome[rust]=$([ "$rust_rc" = 0 ] && echo passed || echo FAILED)
if [ "$sqlite_ok" -gt 0 ] && [ "$rust_rc" = 0 ]; then outcome[sqlite]="passed ($sqlite_ok tests)"; else outcome[sqlite]="FAILED"; status=1; fi
if [ "$have_pg" = 1 ]; then
  if [ "$pg_ok" -gt 0 ] && [ "$rust_rc" = 0 ]; then outcome[postgres]="passed ($pg_ok tests)"; else outcome[postgres]="FAILED"; status=1; fi
else
  outcome[postgres]="SKIPPED (no server on $pg_host:$pg_port)"
  [ "${PASSERELLE_REQUIRE_POSTGRES:-0}" = 1 ] && { outcome[postgres]="MISSING (required)"; status=1; }
fi

took_since rust

# --- Lints --------------------------------------------------------------------------------------
# Clippy compiles every dependency again (for checking). Run in the background during the browser
# tests it saved minutes but slowed WebKit past its hydration wait: it runs on its own, here.
lint_log=$(mktemp)
start_lints() {
  lint_started=$SECONDS
  (cargo clippy -p app -p server --features ssr --locked -- -D warnings >"$lint_log" 2>&1; echo $? >"$lint_log.rc") &
  lint_pid=$!
}
finish_lints() {
  wait "$lint_pid" 2>/dev/null
  bold "== Lints (cargo clippy -p app -p server --features ssr -- -D warnings) =="
  cat "$lint_log"
  if [ "$(cat "$lint_log.rc" 2>/dev/null)" = 0 ]; then outcome[clippy]=passed; else outcome[clippy]="FAILED (see the lints above)"; status=1; fi
  took[clippy]="$(( (SECONDS - lint_started) / 60 ))m$(( (SECONDS - lint_started) % 60 ))s"
}

start_lints
finish_lints

# --- Release build, page weight, browsers ------------------------------------------------------
bold "== Release build =="
if cargo leptos build --release --split --precompress; then
  outcome[build]=passed
else
  outcome[build]=FAILED; status=1
fi
took_since build

if [ "${outcome[build]}" = passed ]; then
  workdir=$(mktemp -d)
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  app_env=(
    PASSERELLE_CONFIG=/dev/null
    PASSERELLE_SERVER_LISTEN="127.0.0.1:$port"
    PASSERELLE_SERVER_BASE_URL="http://127.0.0.1:$port"
    PASSERELLE_DATABASE_URL="sqlite://$workdir/passerelle.db"
    PASSERELLE_STORAGE_FILES_DIR="$workdir/files"
    PASSERELLE_ACCOUNTS_REGISTRATIONS_PER_IP_PER_HOUR=100000
    PASSERELLE_ACCOUNTS_LOGIN_FAILURES_PER_IP_PER_HOUR=100000
    PASSERELLE_ACCOUNTS_LOGIN_FAILURES_PER_HOUR=100000
    PASSERELLE_SESSION_IDLE_TIMEOUT_MINUTES=3
    LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=passerelle
  )
  env "${app_env[@]}" target/release/passerelle serve >"$workdir/server.log" 2>&1 &
  server_pid=$!
  trap 'kill $server_pid 2>/dev/null; rm -rf "$workdir"' EXIT
  for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 $server_pid 2>/dev/null || break
    sleep 0.1
  done
  if ! curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    echo "test: the release server did not start:"; cat "$workdir/server.log"
    outcome[weight]=FAILED; outcome[e2e]=FAILED; status=1
  else
    bold "== Page weight (home page, brotli) =="
    if node scripts/page-weight.mjs "http://127.0.0.1:$port" 250; then outcome[weight]=passed; else outcome[weight]=FAILED; status=1; fi

    took_since weight
    bold "== Browser tests =="
    engines="${E2E_ENGINES:-chromium,firefox,webkit,chromium-nojs,firefox-nojs}"
    IFS=';' read -ra groups <<<"$engines"
    e2e_pids=()
    for n in "${!groups[@]}"; do
      # Each group's advisor (the project and space specs act as one): its password set-up link,
      # from the real command.
      email="conseiller-e2e-$n@exemple.fr"
      link=$(env "${app_env[@]}" target/release/passerelle admin create \
        --email "$email" --name "Alex Conseil $n" --role advisor | grep -o 'http[^ ]*/mot-de-passe/nouveau/[^ ]*' || true)
      # A second staff member, at the phone platform: exceptional accesses and four-eyes merges.
      reception="accueil-e2e-$n@exemple.fr"
      reception_link=$(env "${app_env[@]}" target/release/passerelle admin create --email "$reception" \
        --name "Pia Accueil $n" --role advisor --services accueil | grep -o 'http[^ ]*/mot-de-passe/nouveau/[^ ]*' || true)
      (cd end2end && E2E_ADVISOR_EMAIL="$email" E2E_ADVISOR_SETUP_LINK="$link" \
        E2E_RECEPTION_EMAIL="$reception" E2E_RECEPTION_SETUP_LINK="$reception_link" E2E_SHORT_SESSION=1 \
        node run.mjs --base-url "http://127.0.0.1:$port" --engines "${groups[$n]}") >"$workdir/e2e-$n.log" 2>&1 &
      e2e_pids+=($!)
    done
    e2e_ok=1
    for n in "${!e2e_pids[@]}"; do
      wait "${e2e_pids[$n]}" || e2e_ok=0
      bold "-- Browser engines ${groups[$n]} --"
      cat "$workdir/e2e-$n.log"
    done
    if [ $e2e_ok = 1 ]; then
      outcome[e2e]="passed ($engines)"
    else
      outcome[e2e]="FAILED (see the tables above; requested: $engines)"; status=1
    fi
  fi
  kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null
else
  outcome[weight]="not run (no build)"; outcome[e2e]="not run (no build)"
fi
took_since e2e

# --- Container image ----------------------------------------------------------------------------
if [ "${outcome[build]}" = passed ]; then
  bold "== Container image (podman: read-only root, non-root user, health check) =="
  if scripts/container.sh check; then outcome[container]=passed; else outcome[container]=FAILED; status=1; fi
else
  outcome[container]="not run (no build)"
fi
took_since container


# --- Summary -----------------------------------------------------------------------------------
banner "================================ SUMMARY ================================"
row() { printf '  %-34s %-8s %s\n' "$1" "${2:-}" "$3"; }
row "Tools (install-tools.sh)" "${took[tools]}" "ready"
row "Formatting (cargo fmt)" "${took[fmt]}" "${outcome[fmt]}"
row "Lints (cargo clippy)" "${took[clippy]}" "${outcome[clippy]}"
row "Rust unit + integration tests" "${took[rust]}" "${outcome[rust]}"
row "  database backend SQLite" "" "${outcome[sqlite]}"
row "  database backend PostgreSQL" "" "${outcome[postgres]}"
row "Release build" "${took[build]}" "${outcome[build]}"
row "Page weight (<= 250 KB brotli)" "${took[weight]:-}" "${outcome[weight]}"
row "Browser engines" "${took[e2e]}" "${outcome[e2e]}"
row "Container image (podman)" "${took[container]}" "${outcome[container]}"
printf '  %-34s %s\n' "Total" "$(( SECONDS / 60 ))m$(( SECONDS % 60 ))s"
if [ $status = 0 ]; then bold "ALL PASSED"; else bold "SOMETHING FAILED"; fi
exit $status
