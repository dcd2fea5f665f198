#!/usr/bin/env python3
"""Autosave benchmark: round trips of the project form's `POST /api/project/save` against a
release build of `passerelle serve` on SQLite, at a fixed (open-loop) rate, with latency
percentiles.

What it does
  1. Uses target/release/passerelle (builds it with `cargo build --release -p server --bin
     passerelle` when it is missing or older than the sources, unless --no-build).
  2. Starts it like scripts/test.sh does, on a free port, with a SQLite file in a temporary
     folder; waits for GET /healthz to answer 200.
  3. Inserts --users beneficiaries and one session each straight into the SQLite file, opens one
     keep-alive HTTP/1.1 connection per user and fetches each project (POST /api/project/get).
  4. Sends saves at --rate per second, round-robin over the users, each with the version its
     previous save returned: --warmup seconds not measured, then --seconds measured. A user whose
     previous save is still in flight is skipped for the next free one (counted).
     The motivation text (2-3 KB at first) grows by a few words at each save, as typing does;
     employeur, poste and metier_intitule are short.
  5. Prints count, errors, achieved rate, p50/p95/p99/max, the CPU used by the server, this
     client and everything else, the machine and the git commit; checks that the database holds
     the version each user last got back.
  6. Stops the server (SIGTERM, then waits) and removes the temporary folder, whatever happens.

Latency = time.perf_counter() just before the request is written to the socket, to the end of
reading the response body.

Exit status: 0 when p99 <= budget (50 ms) and no error; 1 otherwise; 2 when the benchmark could
not run (build failed, server did not start...).

Standard library only (Python 3.11+). Run from anywhere:
    python3 bench/autosave.py [--rate 200] [--seconds 30] [--users 50]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COOKIE_NAME = "passerelle_session"  # app/src/account/session.rs: COOKIE_NAME
SHORT_FIELDS = ("employeur", "poste", "metier_intitule")
MOTIVATION_MAX = 5000  # keep the text in the 2-5 KB range however long the run
REQUEST_TIMEOUT_S = 10.0


class SetupError(Exception):
    """The benchmark could not run (exit status 2)."""


# --------------------------------------------------------------------------------------------
# Machine, commit, binary
# --------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 0


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def newest_source_mtime() -> tuple[float, Path | None]:
    newest, which = 0.0, None
    # What goes into the binary: not the tests, not the browser-only crate.
    roots = [REPO / "app" / "src", REPO / "server" / "src", REPO / "migrations"]
    files = [REPO / "Cargo.toml", REPO / "Cargo.lock", REPO / ".cargo" / "config.toml"]
    for crate in ("app", "server"):
        files += [REPO / crate / "Cargo.toml", REPO / crate / "build.rs"]
    for root in roots:
        if root.is_dir():
            files += [path for path in root.rglob("*") if path.is_file()]
    for path in files:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if mtime > newest:
            newest, which = mtime, path
    return newest, which


def ensure_binary(binary: Path, allow_build: bool) -> None:
    newest, which = newest_source_mtime()
    if binary.exists() and binary.stat().st_mtime >= newest:
        print(f"binary: {binary.relative_to(REPO) if binary.is_relative_to(REPO) else binary} (up to date)")
        return
    reason = "missing" if not binary.exists() else f"older than {which.relative_to(REPO) if which else 'the sources'}"
    if not allow_build:
        raise SetupError(f"{binary} is {reason}; build it with `cargo build --release -p server --bin passerelle` (or drop --no-build)")
    print(f"binary: {binary} is {reason}; building it (cargo build --release -p server --bin passerelle)...", flush=True)
    started = time.monotonic()
    result = subprocess.run(["cargo", "build", "--release", "--locked", "-p", "server", "--bin", "passerelle"], cwd=REPO)
    if result.returncode != 0 or not binary.exists():
        raise SetupError("the release build failed")
    print(f"binary: built in {time.monotonic() - started:.0f} s")


# --------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(workdir: Path, port: int, database_url: str | None = None) -> dict[str, str]:
    """The environment `passerelle` runs with here: built-in defaults (development mode, its
    built-in secret, mailbox), this port, the database (a SQLite file in `workdir` by default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_") and not k.startswith("LEPTOS_")}
    env.update(
        PASSERELLE_CONFIG="/dev/null",
        PASSERELLE_SERVER_LISTEN=f"127.0.0.1:{port}",
        PASSERELLE_SERVER_BASE_URL=f"http://127.0.0.1:{port}",
        PASSERELLE_DATABASE_URL=database_url or f"sqlite://{workdir}/passerelle.db",
        PASSERELLE_STORAGE_FILES_DIR=f"{workdir}/files",
        LEPTOS_OUTPUT_NAME="passerelle",
    )
    if (REPO / "target" / "site").is_dir():
        env["LEPTOS_SITE_ROOT"] = "target/site"
    return env


def start_server(binary: Path, workdir: Path, port: int, database_url: str | None = None) -> tuple[subprocess.Popen, Path]:
    env = server_env(workdir, port, database_url)
    log_path = workdir / "server.log"
    log = open(log_path, "wb")
    try:
        process = subprocess.Popen([str(binary), "serve"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        log.close()
    return process, log_path


def wait_healthy(process: subprocess.Popen, port: int, log_path: Path, timeout_s: float = 60.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            raise SetupError(f"the server exited with status {process.returncode} before answering:\n{tail(log_path)}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise SetupError(f"GET /healthz did not answer 200 within {timeout_s:.0f} s:\n{tail(log_path)}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        print("server: no exit 15 s after SIGTERM; killing it", file=sys.stderr)
        process.kill()
        process.wait()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15)


def system_busy_seconds() -> float:
    """CPU time spent busy by all cores since boot, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    values = [int(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # without guest time (counted in user)


# --------------------------------------------------------------------------------------------
# Accounts, sessions and drafts
# --------------------------------------------------------------------------------------------

WORDS = (
    "je souhaite devenir infirmière après dix années passées dans la vente en boulangerie où j'ai "
    "appris le contact avec le public la rigueur des horaires et le travail en équipe ; ce projet "
    "mûrit depuis que j'accompagne ma mère malade et que j'ai découvert le métier de soignant au "
    "quotidien : l'écoute la patience les gestes précis et la responsabilité envers les patients "
    "m'attirent profondément ; la formation en institut de soins infirmiers dure trois ans et je "
    "me suis renseignée auprès de l'IFSI de ma région qui m'a confirmé que mon dossier est "
    "recevable ; mon employeur soutient ma démarche et m'accorde l'autorisation d'absence ; j'ai "
    "effectué deux stages d'observation en EHPAD et en service de médecine qui ont confirmé mon "
    "choix ; les débouchés sont nombreux dans mon bassin d'emploi et plusieurs établissements "
    "recrutent dès la sortie de formation ; financièrement le maintien de ma rémunération pendant "
    "le parcours est indispensable car je suis seule avec deux enfants"
).split()


def sentence(rng: random.Random, words: int) -> str:
    picked = [rng.choice(WORDS) for _ in range(words)]
    text = " ".join(picked)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", " !", " ?"))


@dataclass
class User:
    index: int
    user_id: str
    token: str
    rng: random.Random
    motivation: str = ""
    short: dict[str, str] = field(default_factory=dict)
    version: int = 0
    busy: bool = False
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    saves_ok: int = 0
    confirmed: dict[str, str] = field(default_factory=dict)  # the draft of the last save answered 200
    sending: dict[str, str] = field(default_factory=dict)

    def type_a_little(self) -> None:
        """A few more words, as typed between two autosaves."""
        target = len(self.motivation) + self.rng.randint(5, 25)
        while len(self.motivation) < target:
            self.motivation += " " + self.rng.choice(WORDS)
        if len(self.motivation) > MOTIVATION_MAX:  # a paragraph rewritten: back to ~4 KB
            self.motivation = self.motivation[: MOTIVATION_MAX - 1000].rstrip()

    def body(self) -> bytes:
        self.sending = {"motivation": self.motivation, **self.short}
        pairs = [("version", str(self.version))] + [(f"draft[{k}]", v) for k, v in self.sending.items()]
        return urllib.parse.urlencode(pairs).encode()  # brackets percent-encoded, UTF-8


def make_users(count: int, seed: int) -> list[User]:
    users = []
    employers = ["Boulangerie Martin", "SARL Transports Garnier", "Mairie de Villeurbanne", "Carrefour Market Lyon 7", "Clinique du Parc"]
    jobs = [("Vendeuse", "Infirmière"), ("Chauffeur livreur", "Technicien de maintenance"), ("Agent d'accueil", "Développeuse web"),
            ("Employé libre-service", "Électricien du bâtiment"), ("Aide-soignante", "Infirmière puéricultrice")]
    for i in range(count):
        rng = random.Random(seed * 100_003 + i)
        user = User(index=i, user_id=str(uuid.uuid4()), token=secrets.token_urlsafe(32), rng=rng)
        paragraphs = []
        length = rng.randint(2000, 3000)
        while sum(len(p) + 2 for p in paragraphs) < length:
            paragraphs.append(" ".join(sentence(rng, rng.randint(8, 25)) for _ in range(rng.randint(2, 5))))
        user.motivation = "\n\n".join(paragraphs)
        poste, metier = jobs[i % len(jobs)]
        user.short = {"employeur": employers[i % len(employers)], "poste": poste, "metier_intitule": metier}
        users.append(user)
    return users


def insert_accounts(db_path: Path, users: list[User]) -> None:
    now = int(time.time() * 1000)
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        with conn:  # one transaction, committed on exit
            for u in users:
                conn.execute(
                    "INSERT INTO users (id, email, email_normalized, password_hash, role, display_name, created_at, activated_at) "
                    "VALUES (?, ?, ?, '!', 'beneficiary', ?, ?, ?)",
                    (u.user_id, f"bench-{u.index:03d}@passerelle.example", f"bench-{u.index:03d}@passerelle.example", f"Bénéficiaire {u.index:03d}", now, now),
                )
                conn.execute(
                    "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
                    (hashlib.sha256(u.token.encode()).hexdigest(), u.user_id, now, now),
                )
    finally:
        conn.close()


def stored_projects(db_path: Path) -> dict[str, tuple[int, dict]]:
    """Each beneficiary's project as the database holds it: version and draft."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        rows = conn.execute("SELECT beneficiary_id, version, draft FROM projects").fetchall()
        return {user_id: (version, json.loads(draft)) for user_id, version, draft in rows}
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# HTTP/1.1 over asyncio streams, one keep-alive connection per user
# --------------------------------------------------------------------------------------------


class HttpError(Exception):
    pass


async def connect(user: User, port: int) -> None:
    user.reader, user.writer = await asyncio.open_connection("127.0.0.1", port)
    sock = user.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def close(user: User) -> None:
    if user.writer is not None:
        user.writer.close()
    user.reader = user.writer = None


def request_bytes(path: str, port: int, token: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        # What the app's own fetch sends: no text/html, so no plain-form-post redirect.
        "Accept: application/json\r\n"
        f"Cookie: {COOKIE_NAME}={token}\r\n"
        # What a browser sends with every POST: the server refuses posts from other sites.
        f"Origin: http://127.0.0.1:{port}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the server will close the connection."""
    status_line = await reader.readline()
    if not status_line:
        raise HttpError("connection closed by the server")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise HttpError(f"bad status line {status_line!r}")
    status = int(parts[1])
    length, chunked, closing = None, False, parts[0] == b"HTTP/1.0"
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection":
            closing = value == b"close"
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return status, bytes(body), closing
    if length is not None:
        return status, await reader.readexactly(length), closing
    return status, await reader.read(), True


async def call(user: User, port: int, path: str, body: bytes) -> tuple[int, bytes, float]:
    """One request on the user's connection: status, body, seconds from send to end of body."""
    if user.writer is None:
        await connect(user, port)
    data = request_bytes(path, port, user.token, body)
    started = time.perf_counter()
    user.writer.write(data)
    await user.writer.drain()
    status, payload, closing = await read_response(user.reader)
    elapsed = time.perf_counter() - started
    if closing:
        close(user)
    return status, payload, elapsed


# --------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------


@dataclass
class Results:
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (offset from start of measure, seconds)
    errors: dict[str, int] = field(default_factory=dict)
    warmup_errors: dict[str, int] = field(default_factory=dict)
    warmup_count: int = 0
    sent: int = 0
    no_free_user: int = 0
    warmup_no_free_user: int = 0
    lag: list[float] = field(default_factory=list)  # send time minus scheduled time (measured saves)
    body_bytes: list[int] = field(default_factory=list)
    unexpected_version: int = 0
    ok: int = 0  # measured saves answered 200

    def error(self, measured: bool, kind: str) -> None:
        target = self.errors if measured else self.warmup_errors
        target[kind] = target.get(kind, 0) + 1


async def refresh_version(user: User, port: int) -> None:
    status, payload, _ = await call(user, port, "/api/project/get", b"")
    if status != 200:
        raise HttpError(f"/api/project/get answered {status}: {payload[:200]!r}")
    user.version = int(json.loads(payload)["version"])


async def one_save(user: User, port: int, scheduled: float, measure_start: float, results: Results) -> None:
    measured = scheduled >= measure_start
    user.type_a_little()
    body = user.body()
    sent_at = time.perf_counter()
    if measured:
        results.lag.append(sent_at - scheduled)
        results.body_bytes.append(len(body))
    try:
        status, payload, elapsed = await asyncio.wait_for(call(user, port, "/api/project/save", body), REQUEST_TIMEOUT_S)
    except asyncio.TimeoutError:
        close(user)
        results.error(measured, f"timeout > {REQUEST_TIMEOUT_S:.0f} s")
        user.busy = False
        return
    except (OSError, HttpError, asyncio.IncompleteReadError, ValueError) as e:
        close(user)
        results.error(measured, f"connection: {type(e).__name__}: {e}")
        user.busy = False
        return
    if measured:
        results.latencies.append((sent_at - measure_start, elapsed))
    else:
        results.warmup_count += 1
    try:
        if status == 200:
            saved = json.loads(payload)
            new_version = int(saved["version"])
            if new_version != user.version + 1:
                results.unexpected_version += 1
            user.version = new_version
            user.saves_ok += 1
            user.confirmed = user.sending
            if measured:
                results.ok += 1
        else:
            detail = payload[:120].decode(errors="replace").replace("\n", " ")
            results.error(measured, f"HTTP {status}: {detail}")
            if status == 409:  # stale version: take the server's, as the page would after comparing
                await refresh_version(user, port)
    except Exception as e:  # noqa: BLE001 - anything unexpected is an error of this save
        close(user)
        results.error(measured, f"bad answer: {type(e).__name__}: {e}")
    finally:
        user.busy = False


async def run_load(users: list[User], port: int, rate: float, warmup_s: float, seconds: float) -> tuple[Results, float]:
    results = Results()
    interval = 1.0 / rate
    total = int(round((warmup_s + seconds) * rate))
    warm_sends = int(round(warmup_s * rate))
    start = time.perf_counter() + 0.05
    measure_start = start + warm_sends * interval
    tasks: set[asyncio.Task] = set()
    cursor = 0
    for i in range(total):
        scheduled = start + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        chosen = None
        for step in range(len(users)):
            candidate = users[(cursor + step) % len(users)]
            if not candidate.busy:
                chosen = candidate
                cursor = (cursor + step + 1) % len(users)
                break
        if chosen is None:
            if i >= warm_sends:
                results.no_free_user += 1
            else:
                results.warmup_no_free_user += 1
            continue
        chosen.busy = True
        if i >= warm_sends:
            results.sent += 1
        task = asyncio.create_task(one_save(chosen, port, scheduled, measure_start, results))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    end_of_sends = time.perf_counter()
    if tasks:
        await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 5)
    window = max(end_of_sends - measure_start + interval, 1e-9)
    return results, window


async def prepare_connections(users: list[User], port: int) -> float:
    started = time.perf_counter()
    for user in users:
        await connect(user, port)
        await refresh_version(user, port)
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="saves per second, open loop (default 200)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured duration (default 30)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured warm-up before it (default 3)")
    parser.add_argument("--users", type=int, default=50, help="beneficiaries, one session and connection each (default 50)")
    parser.add_argument("--budget-ms", type=float, default=50.0, help="p99 budget in ms (default 50)")
    parser.add_argument("--binary", type=Path, default=REPO / "target" / "release" / "passerelle", help="server binary")
    parser.add_argument("--no-build", action="store_true", help="fail instead of building a missing or stale binary")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated texts")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0 or args.warmup < 0 or args.users < 1:
        parser.error("--rate, --seconds and --users must be positive, --warmup not negative")

    print(f"machine: {nproc()} CPU(s), {cpu_model()}, {platform.system()} {platform.release()}, Python {platform.python_version()}")
    print(f"commit:  {git_commit()}")
    load1, load5, _ = os.getloadavg()
    print(f"load average before the run: {load1:.2f} (1 min), {load5:.2f} (5 min)")

    try:
        ensure_binary(args.binary.resolve(), allow_build=not args.no_build)
    except SetupError as e:
        print(f"autosave bench: {e}", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="passerelle-bench-"))
    process = None
    try:
        port = free_port()
        process, log_path = start_server(args.binary.resolve(), workdir, port)
        ready = wait_healthy(process, port, log_path)
        print(f"server:  pid {process.pid}, http://127.0.0.1:{port}, SQLite {workdir}/passerelle.db, healthy after {ready:.2f} s")

        users = make_users(args.users, args.seed)
        insert_accounts(workdir / "passerelle.db", users)

        async def run() -> tuple[Results, float, float, float, float, float]:
            prep = await prepare_connections(users, port)
            print(f"setup:   {len(users)} beneficiaries, sessions and keep-alive connections; projects fetched in {prep:.2f} s")
            print(f"load:    {args.rate:g} saves/s for {args.warmup:g} s warm-up + {args.seconds:g} s measured...", flush=True)
            server_cpu0, client0, busy0, wall0 = process_cpu_seconds(process.pid), sum(os.times()[:2]), system_busy_seconds(), time.perf_counter()
            results, window = await run_load(users, port, args.rate, args.warmup, args.seconds)
            wall = time.perf_counter() - wall0
            server_cpu = process_cpu_seconds(process.pid) - server_cpu0
            client_cpu = sum(os.times()[:2]) - client0
            busy = system_busy_seconds() - busy0
            for u in users:
                close(u)
            return results, window, wall, server_cpu, client_cpu, busy

        results, window, wall, server_cpu, client_cpu, busy = asyncio.run(run())

        # The database holds what each user was last told.
        stored = stored_projects(workdir / "passerelle.db")
        mismatched = [u for u in users if stored.get(u.user_id) != (u.version, u.confirmed)]
        total_ok = sum(u.saves_ok for u in users)
        stop_server(process)

        lat_ms = sorted(ms * 1000 for _, ms in results.latencies)
        errors = sum(results.errors.values())
        warm_errors = sum(results.warmup_errors.values())
        ok = results.ok
        count = len(results.latencies)
        p50, p95, p99 = (percentile(lat_ms, p) for p in (50, 95, 99))
        worst = lat_ms[-1] if lat_ms else float("nan")
        lag_ms = sorted(x * 1000 for x in results.lag)
        bodies = results.body_bytes

        print()
        print("=== autosave: POST /api/project/save ===")
        print(f"saves measured   {count} in {window:.1f} s ({results.sent} sent, {ok} answered 200)")
        print(f"errors           {errors} measured, {warm_errors} during warm-up ({results.warmup_count} warm-up saves answered)")
        for kind, n in sorted({**results.warmup_errors, **results.errors}.items(), key=lambda kv: -kv[1]):
            print(f"                   {results.errors.get(kind, 0):>5} + {results.warmup_errors.get(kind, 0):>3} warm-up  {kind}")
        print(f"achieved rate    {results.sent / window:.1f} saves/s (target {args.rate:g})")
        print(f"no user free     {results.no_free_user} ticks skipped ({results.warmup_no_free_user} during warm-up)")
        print(f"latency ms       p50 {p50:.2f}   p95 {p95:.2f}   p99 {p99:.2f}   max {worst:.2f}")
        if lat_ms:
            over = sum(1 for x in lat_ms if x > args.budget_ms)
            print(f"                 mean {sum(lat_ms) / len(lat_ms):.2f}, min {lat_ms[0]:.2f}, over {args.budget_ms:g} ms: {over}")
            slowest = sorted(results.latencies, key=lambda t: -t[1])[:5]
            print("slowest          " + ", ".join(f"{ms * 1000:.1f} ms at +{at:.2f} s" for at, ms in slowest))
        if lag_ms:
            print(f"send lag ms      p50 {percentile(lag_ms, 50):.2f}, p99 {percentile(lag_ms, 99):.2f}, max {lag_ms[-1]:.2f} (client late vs. schedule)")
        if bodies:
            print(f"request body     {min(bodies)}-{max(bodies)} bytes, mean {sum(bodies) / len(bodies):.0f} (form-urlencoded)")
        cores = nproc() or 1
        print(
            f"CPU during load  server {100 * server_cpu / wall:.0f}% of one core, this client {100 * client_cpu / wall:.0f}%, "
            f"other processes {100 * max(busy - server_cpu - client_cpu, 0) / wall:.0f}% (machine: {cores} cores = {cores * 100}%)"
        )
        print(f"database check   {len(users) - len(mismatched)}/{len(users)} projects hold the version and text of their last accepted save; "
              f"{total_ok} saves accepted; {results.unexpected_version} answers with a version other than previous + 1")
        if mismatched:
            print("                 MISMATCH: " + ", ".join(
                f"user {u.index}: client v{u.version}, db v{stored.get(u.user_id, (None,))[0]}" for u in mismatched[:5]))
        failed = (not lat_ms) or p99 > args.budget_ms or errors > 0 or warm_errors > 0 or bool(mismatched)
        print(f"p99 budget {args.budget_ms:g} ms: {'PASS' if lat_ms and p99 <= args.budget_ms else 'FAIL'}")
        reasons = [f"{errors + warm_errors} errors"] if errors + warm_errors else []
        reasons += ["database check failed"] if mismatched else []
        print(f"result: {'FAIL' if failed else 'PASS'}" + (f" ({', '.join(reasons)})" if reasons else ""))
        return 1 if failed else 0
    except SetupError as e:
        print(f"autosave bench: {e}", file=sys.stderr)
        return 2
    finally:
        if process is not None:
            stop_server(process)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
