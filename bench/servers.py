#!/usr/bin/env python3
"""Several servers under load (issue 17, point 6): 1, then 2, then 3 `passerelle` processes on
one PostgreSQL database, files on an S3-compatible store (`s3s-fs`, server/examples/s3_fs.rs),
behind HAProxy (Debian package; round robin, `/healthz` checks every 500 ms), under a mixed load
for a bounded time. With 2 and 3 servers, one of them is killed (SIGKILL) half-way.

The load: --workers client threads, each with its own beneficiaries (seeded with
`passerelle seed-demo`, logged in through the load balancer) and its own keep-alive connection,
each sending one request after the other for --seconds:
  45 % autosaves      POST /api/project/save (the version the last acknowledged save returned)
  30 % page views     GET /projet (server-rendered, with the session)
  15 % messages       POST /api/messages/send, multipart, with a 20 KB PDF attached (S3)
  10 % logins         POST /api/session/login (argon2: the heaviest request)

Checks, for each run:
  - no request failed but those in flight on the killed server: every failure happened within
    2 s after the kill, and there are at most as many as there are workers (one request in
    flight each);
  - no acknowledged autosave is missing: for each beneficiary, the database holds the version
    the last save answered 200 returned, with its text — or the next version, when a save was
    in flight on the killed server and committed before the answer could leave.

Prints, per run: requests/s, p50/p99 latency by kind, failures; then a summary table.
Exit status: 0 when every check held; 1 otherwise; 2 when the benchmark could not run.

Needs: target/release/passerelle (built when missing, unless --no-build), haproxy and psql
(Debian), PostgreSQL on 127.0.0.1:5432 (user postgres, trust). Standard library only.
    python3 bench/servers.py [--seconds 20] [--workers 6] [--servers 1,2,3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
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
    stop_server,
    tail,
)

PG = "postgres://postgres@127.0.0.1:5432"
S3_KEY, S3_SECRET = "passerelle-bench", "passerelle-bench-secret-key"
DEMO_PASSWORD = "Demo-Passerelle-2026"  # server/src/main.rs: DEMO_PASSWORD
COOKIE = "passerelle_session"
KINDS = [("autosave", 45), ("page", 30), ("message", 15), ("login", 10)]


def psql(database: str, sql: str) -> str:
    out = subprocess.run(["psql", f"{PG}/{database}", "-tAq", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise SetupError(f"psql: {out.stderr.strip()}")
    return out.stdout


def pdf(size: int) -> bytes:
    head = b"%PDF-1.7\n"
    return head + b"%" + b"x" * (size - len(head) - 7) + b"\n%%EOF\n"


@dataclass
class Person:
    user_id: str
    email: str
    cookie: str = ""
    version: int = 0
    acked_version: int = 0
    acked_text: str | None = None


@dataclass
class Sample:
    kind: str
    started: float
    latency: float
    status: int  # 0: no answer (connection reset, refused)


@dataclass
class Worker:
    people: list[Person]
    samples: list[Sample] = field(default_factory=list)


class Client:
    """One keep-alive connection to the load balancer, reopened after a failure."""

    def __init__(self, port: int, origin: str):
        self.port, self.origin, self.conn = port, origin, None

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self.conn.request(method, path, body=body, headers={"Origin": self.origin, **headers})
            answer = self.conn.getresponse()
            data = answer.read()
            if 400 <= answer.status < 500 and os.environ.get("BENCH_DEBUG"):  # why a request was refused
                print(method, path, answer.status, data[:300], file=sys.stderr)
            headers = {k.lower(): v for k, v in answer.getheaders()}
            headers["set-cookie"] = "\n".join(v for k, v in answer.getheaders() if k.lower() == "set-cookie")
            return answer.status, data, headers
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            return 0, b"", {}


def login(client: Client, person: Person) -> int:
    """Logs in (accepting the terms of use on the first login: seeded people never did)."""
    form = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    body = urllib.parse.urlencode({"email": person.email, "password": DEMO_PASSWORD}).encode()
    status, answer, headers = client.send("POST", "/api/session/login", body, form)
    if status == 200 and b"NewTerms" in answer:
        ticket = json.loads(answer)["NewTerms"]["ticket"]
        body = urllib.parse.urlencode({"ticket": ticket, "accept": "on"}).encode()
        status, answer, headers = client.send("POST", "/api/session/accept-terms", body, form)
    for cookie in headers.get("set-cookie", "").splitlines():
        if status == 200 and cookie.startswith(COOKIE + "="):
            person.cookie = cookie.split(";", 1)[0]
    return status


def refresh_version(client: Client, person: Person) -> None:
    status, data, _ = client.send("POST", "/api/project/get", b"", {"Cookie": person.cookie, "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    if status == 200:
        person.version = json.loads(data)["version"]


def one_request(client: Client, person: Person, kind: str, rng: random.Random) -> int:
    form = {"Cookie": person.cookie, "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if kind == "page":
        return client.send("GET", "/projet", None, {"Cookie": person.cookie, "Accept": "text/html"})[0]
    if kind == "login":
        return login(client, person)
    if kind == "autosave":
        text = f"Motivation {uuid.uuid4().hex} " + "mot " * rng.randint(50, 400)
        body = urllib.parse.urlencode([("version", str(person.version)), ("draft[motivation]", text)]).encode()
        status, data, _ = client.send("POST", "/api/project/save", body, form)
        if status == 200:
            person.version = json.loads(data)["version"]
            person.acked_version, person.acked_text = person.version, text
        else:
            refresh_version(client, person)  # a save lost in flight may have been written
        return status
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (("to", "accueil"), ("subject", "Pièce pour mon dossier"), ("body", "Bonjour, voici la pièce demandée.")):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="piece.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode() + pdf(20_000) + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    headers = {"Cookie": person.cookie, "Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"}
    return client.send("POST", "/api/messages/send", b"".join(parts), headers)[0]


def run_worker(worker: Worker, port: int, origin: str, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    client = Client(port, origin)
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    turn = 0
    while time.monotonic() < deadline:
        person = worker.people[turn % len(worker.people)]
        turn += 1
        kind = rng.choice(kinds)
        started = time.monotonic()
        status = one_request(client, person, kind, rng)
        worker.samples.append(Sample(kind, started, time.monotonic() - started, status))


def haproxy_config(port: int, servers: list[int]) -> str:
    lines = [
        "global", "    maxconn 4096",
        "defaults", "    mode http", "    timeout connect 2s", "    timeout client 60s", "    timeout server 60s",
        "    option redispatch", "    retries 3", "    option forwardfor",
        "frontend web", f"    bind 127.0.0.1:{port}", "    default_backend passerelle",
        "backend passerelle", "    balance roundrobin", "    option httpchk GET /healthz", "    http-check expect status 200",
        "    default-server inter 500ms fall 2 rise 2",
    ]
    lines += [f"    server s{i} 127.0.0.1:{p} check" for i, p in enumerate(servers, 1)]
    return "\n".join(lines) + "\n"


def wait_http(port: int, path: str, timeout_s: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SetupError(f"{what} exited with status {process.returncode}:\n{tail(log) if log else ''}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SetupError(f"{what} did not answer {path} within {timeout_s:.0f} s:\n{tail(log) if log else ''}")


def one_run(binary: Path, s3: Path, count: int, args: argparse.Namespace, workdir: Path) -> dict:
    database = f"passerelle_bench_servers_{uuid.uuid4().hex[:8]}"
    psql("postgres", f"CREATE DATABASE {database}")
    processes: list[subprocess.Popen] = []
    try:
        s3_port, lb_port = free_port(), free_port()
        s3_root = workdir / f"s3-{count}"
        s3_log = workdir / f"s3-{count}.log"
        store = subprocess.Popen([str(s3), str(s3_root), str(s3_port), S3_KEY, S3_SECRET], stdout=open(s3_log, "wb"), stderr=subprocess.STDOUT)
        processes.append(store)
        origin = f"http://127.0.0.1:{lb_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSERELLE_", "LEPTOS_"))}
        env.update(
            PASSERELLE_CONFIG="/dev/null",
            PASSERELLE_SERVER_BASE_URL=origin,
            PASSERELLE_SERVER_TRUSTED_PROXIES="127.0.0.1",
            PASSERELLE_DATABASE_URL=f"{PG}/{database}",
            PASSERELLE_DATABASE_MAX_CONNECTIONS="10",
            PASSERELLE_STORAGE_BACKEND="s3",
            PASSERELLE_STORAGE_S3_ENDPOINT=f"http://127.0.0.1:{s3_port}",
            PASSERELLE_STORAGE_S3_BUCKET="passerelle",
            PASSERELLE_STORAGE_S3_ACCESS_KEY_ID=S3_KEY,
            PASSERELLE_STORAGE_S3_SECRET_ACCESS_KEY=S3_SECRET,
            PASSERELLE_ACCOUNTS_LOGIN_FAILURES_PER_IP_PER_HOUR="100000",
            PASSERELLE_ACCOUNTS_LOGIN_FAILURES_PER_HOUR="100000",
            LEPTOS_SITE_ROOT=str(REPO / "target" / "site"),
            LEPTOS_OUTPUT_NAME="passerelle",
            RUST_LOG="warn",
        )
        # The people first (seed-demo also runs the migrations), then the servers.
        seeded = subprocess.run([str(binary), "seed-demo", "--beneficiaries", str(args.workers * args.people * 3)], env={**env, "PASSERELLE_SERVER_LISTEN": "127.0.0.1:0"}, capture_output=True, text=True)
        if seeded.returncode != 0:
            raise SetupError(f"seed-demo: {seeded.stderr.strip()}")
        rows = psql(database, "SELECT id, email FROM users WHERE role = 'beneficiary' ORDER BY email").split()
        people = [Person(*row.split("|")) for row in rows]
        ports = [free_port() for _ in range(count)]
        for n, port in enumerate(ports):
            log = workdir / f"server-{count}-{n}.log"
            server = subprocess.Popen([str(binary), "serve"], env={**env, "PASSERELLE_SERVER_LISTEN": f"127.0.0.1:{port}"}, stdout=open(log, "wb"), stderr=subprocess.STDOUT, cwd=REPO)
            processes.append(server)
            wait_http(port, "/healthz", 60, f"server {n + 1}", server, log)
        cfg = workdir / f"haproxy-{count}.cfg"
        cfg.write_text(haproxy_config(lb_port, ports))
        balancer = subprocess.Popen(["haproxy", "-f", str(cfg), "-db"], stdout=open(workdir / f"haproxy-{count}.log", "wb"), stderr=subprocess.STDOUT)
        processes.append(balancer)
        wait_http(lb_port, "/healthz", 20, "haproxy", balancer, workdir / f"haproxy-{count}.log")

        setup = Client(lb_port, origin)
        # Seeded people whose project can still be written (drafts; seed-demo also makes
        # submitted and decided ones), logged in through the load balancer.
        editable = set(psql(database, "SELECT beneficiary_id FROM projects WHERE state = 'brouillon'").split())
        people = [person for person in people if person.user_id in editable]
        # (seed-demo also makes accounts that cannot log in: never activated, merged.)
        people = [person for person in people if login(setup, person) == 200 and person.cookie]
        for person in people:
            refresh_version(setup, person)
            person.acked_version = person.version
        if len(people) < args.workers:
            raise SetupError(f"only {len(people)} seeded people can log in with a draft project; raise --people")
        workers = [Worker(people[i::args.workers]) for i in range(args.workers)]

        started = time.monotonic()
        deadline = started + args.seconds
        threads = [threading.Thread(target=run_worker, args=(w, lb_port, origin, deadline, i)) for i, w in enumerate(workers)]
        for t in threads:
            t.start()
        killed_at = None
        if count >= 2:
            time.sleep(args.seconds / 2)  # the run's middle: the bounded load runs meanwhile
            killed_at = time.monotonic()
            processes[count].send_signal(signal.SIGKILL)  # the last server (processes[0] is the store)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started

        samples = [s for w in workers for s in w.samples]
        failures = [s for s in samples if s.status == 0 or s.status >= 500]
        refused = [s for s in samples if 400 <= s.status < 500]
        late = [s for s in failures if killed_at is None or not (killed_at - 0.05 <= s.started + s.latency <= killed_at + 2.0)]
        missing = []
        for person in people:
            stored = psql(database, f"SELECT version, draft FROM projects WHERE beneficiary_id = '{person.user_id}'").strip()
            version_text, _, draft = stored.partition("|")
            version = int(version_text or 0)
            text = json.loads(draft or "{}").get("motivation") if draft else None
            ok = version == person.acked_version + 1 or (version == person.acked_version and (person.acked_text is None or text == person.acked_text))
            if not ok:
                missing.append((person.email, person.acked_version, version))
        by_kind = {}
        for kind, _ in KINDS:
            latencies = sorted(s.latency * 1000 for s in samples if s.kind == kind and 0 < s.status < 400)
            by_kind[kind] = {"count": len(latencies), "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}
        all_ok = sorted(s.latency * 1000 for s in samples if 0 < s.status < 400)
        result = {
            "servers": count,
            "requests": len(samples),
            "per_second": len(all_ok) / elapsed,
            "p50": percentile(all_ok, 50),
            "p99": percentile(all_ok, 99),
            "by_kind": by_kind,
            "failures": len(failures),
            "failures_outside_the_kill": len(late),
            "refused_4xx": len(refused),
            "killed": killed_at is not None,
            "autosaves_missing": missing,
        }
        result["held"] = not late and len(failures) <= args.workers and not missing and not refused
        return result
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                stop_server(process)
        try:
            psql("postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        except SetupError as e:
            print(f"cleanup: {e}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--people", type=int, default=4, help="beneficiaries per worker")
    parser.add_argument("--servers", default="1,2,3")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    binary = REPO / "target" / "release" / "passerelle"
    s3 = REPO / "target" / "release" / "examples" / "s3_fs"
    try:
        for tool in ("haproxy", "psql"):
            if shutil.which(tool) is None:
                raise SetupError(f"{tool} is missing (Debian package {'haproxy' if tool == 'haproxy' else 'postgresql-client'})")
        ensure_binary(binary, not args.no_build)
        if not s3.exists():
            if args.no_build:
                raise SetupError(f"{s3} is missing (cargo build --release -p server --example s3_fs)")
            subprocess.run(["cargo", "build", "--release", "-p", "server", "--example", "s3_fs"], cwd=REPO, check=True)
        results = []
        with tempfile.TemporaryDirectory(prefix="passerelle-servers-") as folder:
            for count in [int(n) for n in args.servers.split(",")]:
                result = one_run(binary, s3, count, args, Path(folder))
                results.append(result)
                print(json.dumps(result, indent=2), flush=True)
    except (SetupError, subprocess.CalledProcessError) as e:
        print(f"servers: could not run: {e}", file=sys.stderr)
        return 2
    print(f"\n{cpu_model()}, {nproc()} cores, commit {git_commit()}, {args.workers} workers, {args.seconds:.0f} s per run")
    print("| servers | requests/s | p50 ms | p99 ms | autosave p99 | page p99 | message p99 | login p99 | failures (at the kill) | autosaves missing |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        k = r["by_kind"]
        print(
            f"| {r['servers']}{' (one killed)' if r['killed'] else ''} | {r['per_second']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{k['autosave']['p99']:.1f} | {k['page']['p99']:.1f} | {k['message']['p99']:.1f} | {k['login']['p99']:.1f} | "
            f"{r['failures']} ({r['failures'] - r['failures_outside_the_kill']}) | {len(r['autosaves_missing'])} |"
        )
    return 0 if all(r["held"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
