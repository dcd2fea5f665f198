#!/usr/bin/env python3
"""Beneficiary search benchmark: latency of the advisors' `POST /api/staff/beneficiaries` on
100,000 seeded beneficiaries, against a release build of `passerelle serve`, on SQLite and on
PostgreSQL.

What it does, for each database (--backends sqlite,postgres)
  1. Uses target/release/passerelle (built when missing or older than the sources, as
     bench/autosave.py does).
  2. Creates an empty database: a SQLite file in a temporary folder, or a new PostgreSQL
     database on --postgres (dropped at the end).
  3. Creates 20 advisors with `passerelle admin create` (the benchmark's own, whose password is
     set through the emailed link's endpoint, and 19 others), then fills it with
     `passerelle seed-demo --beneficiaries N`, which gives 60 % of the people one of them as
     referent. The benchmark's advisor finds only the people in their scope (theirs and those
     without a referent, about 43 %): the search applies the scope in SQL.
  4. Starts the server, logs the advisor in, and sends --requests searches one after the other
     on one keep-alive connection (the way one advisor's browser does), cycling through a mix:
     names with and without accents, short prefixes that match thousands, two words, an email
     start, a NIR, filters on project state and referent, and the next pages of a list.
     The first --warmup requests are not measured.
  5. Prints count, errors, p50/p95/p99/max overall and per kind of query, and the slowest
     queries at p95.

Exit status: 0 when p95 <= 50 ms on every backend with no error; 1 otherwise; 2 when the
benchmark could not run.

Standard library only (Python 3.11+):
    python3 bench/search.py [--beneficiaries 100000] [--requests 2000] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from autosave import (  # noqa: E402  (shared helpers of the benchmarks)
    REPO,
    SetupError,
    cpu_model,
    ensure_binary,
    free_port,
    git_commit,
    nproc,
    percentile,
    server_env,
    start_server,
    stop_server,
    wait_healthy,
)

BUDGET_P95_MS = 50.0
# Advisors among whom the seed spreads referents (the benchmark's advisor is one of them).
ADVISORS = 20
PASSWORD = "marmotte violette sur le toit"

# (kind, form fields): what advisors type. Names come from the seed's lists (app/src/dashboard/seed.rs).
QUERIES = [
    ("name", {"q": "helene"}),
    ("name", {"q": "Hélène"}),
    ("name", {"q": "martin"}),
    ("name", {"q": "le goff"}),
    ("name", {"q": "francois mar"}),
    ("name", {"q": "GUERIN"}),
    ("prefix", {"q": "m"}),
    ("prefix", {"q": "ch"}),
    ("prefix", {"q": "zz"}),
    ("email", {"q": "helene.martin.1"}),
    ("email", {"q": "jerome.dupont.4@"}),
    ("nir", {"q": "2850775056042"}),
    ("filter", {"q": "", "etat": "soumis"}),
    ("filter", {"q": "martin", "referent": "aucun"}),
    ("filter", {"q": "", "etat": "en_instruction", "referent": "aucun"}),
    ("list", {"q": ""}),
]


def run(cmd: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SetupError(f"{' '.join(cmd[1:3])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def post(conn: http.client.HTTPConnection, path: str, fields: dict[str, str], cookie: str = "") -> tuple[int, bytes, dict[str, str]]:
    body = urllib.parse.urlencode(fields).encode()
    # The Origin a browser sends with every POST: the server refuses posts from other sites.
    headers = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json", "origin": f"http://{conn.host}:{conn.port}"}
    if cookie:
        headers["cookie"] = cookie
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, data, {k.lower(): v for k, v in response.getheaders()}


def bench_backend(binary: Path, backend: str, args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"passerelle-search-{backend}-"))
    database_url = None
    pg_name = None
    process = None
    try:
        if backend == "postgres":
            if not shutil.which("psql"):
                raise SetupError("psql is needed to create the PostgreSQL database")
            pg_name = f"passerelle_search_{os.getpid()}"
            subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {pg_name}"], check=True, capture_output=True)
            database_url = f"{args.postgres.rstrip('/')}/{pg_name}"
        port = free_port()
        env = server_env(workdir, port, database_url)
        started = time.monotonic()
        # The advisors exist before the seed, which spreads referents among them: the benchmark's
        # advisor is in charge of a share of the people and of those without a referent, and the
        # search applies that scope (issue 16).
        created = run([str(binary), "admin", "create", "--email", "bench@exemple.fr", "--name", "Bench Conseil", "--role", "advisor"], env)
        for n in range(1, ADVISORS):
            run([str(binary), "admin", "create", "--email", f"conseiller-{n}@exemple.fr", "--name", f"Conseiller {n}", "--role", "advisor"], env)
        print(f"[{backend}] seeding {args.beneficiaries} beneficiaries...", flush=True)
        print("   " + run([str(binary), "seed-demo", "--beneficiaries", str(args.beneficiaries)], env).strip(), flush=True)
        token = re.search(r"/mot-de-passe/nouveau/(\S+)", created)
        if not token:
            raise SetupError(f"no set-up link in: {created}")
        print(f"[{backend}] seeded in {time.monotonic() - started:.0f} s", flush=True)
        process, log_path = start_server(binary, workdir, port, database_url)
        wait_healthy(process, port, log_path)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, data, _ = post(conn, "/api/account/reset-password", {"token": token.group(1), "password": PASSWORD, "password_confirm": PASSWORD})
        if status != 200:
            raise SetupError(f"setting the advisor's password answered {status}: {data[:300]!r}")
        status, data, headers = post(conn, "/api/session/login", {"email": "bench@exemple.fr", "password": PASSWORD})
        cookie = headers.get("set-cookie", "").split(";")[0]
        if status != 200 or not cookie:
            raise SetupError(f"login answered {status}: {data[:300]!r}")

        latencies: dict[str, list[float]] = {}
        by_query: dict[str, list[float]] = {}
        errors = 0
        next_key = ""
        total = args.warmup + args.requests
        for i in range(total):
            kind, fields = QUERIES[i % len(QUERIES)]
            fields = dict(fields)
            if kind == "list" and next_key:
                kind = "next page"
                fields["after"] = next_key
            t0 = time.perf_counter()
            status, data, _ = post(conn, "/api/staff/beneficiaries", fields, cookie)
            elapsed = (time.perf_counter() - t0) * 1000
            if status != 200:
                errors += 1
                if errors <= 3:
                    print(f"[{backend}] {fields} answered {status}: {data[:200]!r}", file=sys.stderr)
                continue
            if kind in ("list", "next page"):
                next_key = json.loads(data).get("next") or ""
            if i >= args.warmup:
                latencies.setdefault(kind, []).append(elapsed)
                by_query.setdefault(json.dumps({k: v for k, v in fields.items() if k != "after"}, ensure_ascii=False), []).append(elapsed)
        conn.close()
        every = sorted(v for values in latencies.values() for v in values)
        result = {
            "backend": backend,
            "count": len(every),
            "errors": errors,
            "p50": percentile(every, 50),
            "p95": percentile(every, 95),
            "p99": percentile(every, 99),
            "max": every[-1] if every else float("nan"),
            "kinds": {k: (len(v), percentile(sorted(v), 95)) for k, v in latencies.items()},
            "slowest": sorted(((percentile(sorted(v), 95), q) for q, v in by_query.items()), reverse=True)[:5],
        }
        return result
    finally:
        if process is not None:
            stop_server(process)
        if pg_name:
            subprocess.run(["psql", args.postgres, "-qc", f"DROP DATABASE IF EXISTS {pg_name}"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beneficiaries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres", default=os.environ.get("PASSERELLE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    binary = REPO / "target" / "release" / "passerelle"
    try:
        ensure_binary(binary, allow_build=not args.no_build)
        results = [bench_backend(binary, backend.strip(), args) for backend in args.backends.split(",") if backend.strip()]
    except (SetupError, subprocess.CalledProcessError) as e:
        print(f"search benchmark could not run: {e}", file=sys.stderr)
        return 2
    print(f"\nmachine: {nproc()} vCPU {cpu_model()}; commit {git_commit()}; {args.beneficiaries} beneficiaries")
    ok = True
    for r in results:
        passed = r["errors"] == 0 and r["p95"] <= BUDGET_P95_MS
        ok = ok and passed
        print(
            f"{r['backend']:>8}: {r['count']} searches, {r['errors']} errors, p50 {r['p50']:.2f} ms, p95 {r['p95']:.2f} ms, "
            f"p99 {r['p99']:.2f} ms, max {r['max']:.2f} ms — {'PASS' if passed else 'FAIL'} (p95 ≤ {BUDGET_P95_MS:.0f} ms)"
        )
        for kind, (n, p95) in sorted(r["kinds"].items()):
            print(f"          {kind:>10}: {n:5} searches, p95 {p95:.2f} ms")
        print("          slowest queries at p95: " + "; ".join(f"{q} {p95:.1f} ms" for p95, q in r["slowest"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
