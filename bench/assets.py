#!/usr/bin/env python3
"""Static-file benchmark (issue 17): how many times a second the release server sends the main
WASM to browsers that accept brotli, and how many bytes each answer is.

The site's files are compressed once, at build time (`cargo leptos build --release --split
--precompress`: brotli quality 11 and gzip), and sent as they are; before, the server compressed
the WASM again on every request (155 answers/s with `br` on 2 vCPU, issue 17). The goal is ten
times that at least.

What it does
  1. Needs the release site (target/site, from `make run` or `make test`) and target/release/passerelle.
  2. Starts the server on a SQLite file in a temporary folder, reads the home page and takes the
     main WASM's address from it.
  3. For --seconds, --clients processes each ask for the WASM in a loop on one keep-alive
     connection with `Accept-Encoding: br`, reading every answer to its end.
  4. Prints answers per second, the bytes of one answer and its headers.

Exit status: 0 when the rate is at least --goal answers/s; 1 otherwise; 2 when it could not run.

Standard library only (Python 3.11+):
    python3 bench/assets.py [--seconds 10] [--clients 4] [--goal 1550]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import re
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from autosave import REPO, SetupError, cpu_model, free_port, git_commit, nproc, start_server, stop_server, wait_healthy  # noqa: E402


def hammer(port: int, path: str, seconds: float, counts) -> None:
    """Asks for `path` in a loop on one keep-alive connection, reading each answer to its end
    with large socket reads (http.client's small reads would measure the client, not the server)."""
    sock = socket.create_connection(("127.0.0.1", port))
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: br\r\n\r\n".encode()
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    pending = b""
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.sendall(request)
        while b"\r\n\r\n" not in pending:
            n = sock.recv_into(view)
            if n == 0:
                raise SystemExit("the server closed the connection")
            pending += view[:n]
        head, _, pending = pending.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"{path} answered {head[:40]!r}")
        found = re.search(rb"(?i)content-length: *(\d+)", head)
        if not found:
            counts.put(0)
            raise SystemExit(f"{path}: an answer without Content-Length (compressed per request, not at build time)")
        length = int(found.group(1))
        left = length - len(pending)
        pending = b""
        while left > 0:
            n = sock.recv_into(view, min(left, len(buffer)))
            if n == 0:
                raise SystemExit("the server closed the connection")
            left -= n
        done += 1
    sock.close()
    counts.put(done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--goal", type=float, default=1550.0)
    args = parser.parse_args()
    binary = REPO / "target" / "release" / "passerelle"
    if not binary.exists() or not (REPO / "target" / "site" / "pkg").is_dir():
        print("assets benchmark could not run: build the release site first (make run or make test)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="passerelle-assets-"))
    port = free_port()
    process = None
    try:
        process, log_path = start_server(binary, workdir, port)
        wait_healthy(process, port, log_path)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/")
        html = conn.getresponse().read().decode()
        found = re.search(r"/pkg/[A-Za-z0-9_.\-]+\.wasm", html)
        if not found:
            raise SetupError("the home page names no WASM")
        wasm = found.group(0)
        conn.request("GET", wasm, headers={"Accept-Encoding": "br"})
        first = conn.getresponse()
        size = len(first.read())
        headers = {k.lower(): v for k, v in first.getheaders()}
        conn.close()
        counts: multiprocessing.Queue = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=hammer, args=(port, wasm, args.seconds, counts)) for _ in range(args.clients)]
        started = time.monotonic()
        for w in workers:
            w.start()
        total = sum(counts.get(timeout=args.seconds + 60) for _ in workers)
        for w in workers:
            w.join()
        elapsed = time.monotonic() - started
    except SetupError as e:
        print(f"assets benchmark could not run: {e}", file=sys.stderr)
        return 2
    finally:
        if process is not None:
            stop_server(process)
        shutil.rmtree(workdir, ignore_errors=True)
    rate = total / elapsed
    print(f"machine: {nproc()} vCPU {cpu_model()}; commit {git_commit()}")
    print(f"{wasm}: {size / 1024:.1f} KB per answer, content-encoding {headers.get('content-encoding')}, cache-control {headers.get('cache-control')}")
    print(f"{total} answers in {elapsed:.1f} s by {args.clients} clients: {rate:.0f} answers/s — {'PASS' if rate >= args.goal else 'FAIL'} (goal ≥ {args.goal:.0f}/s)")
    return 0 if rate >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
