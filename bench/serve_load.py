"""Load benchmark of `stance serve`, on this machine only (127.0.0.1).

    python bench/serve_load.py [--model default] [--no-ner] [--requests 10000] [--level-requests 300]

1. Generates news-like articles (bench/corpus.py) and, for reference, times the batch path on
   them in a child process (`StanceScorer.score_articles` in chunks of 64 articles, as
   `stance score` does; model loading and file writing not counted).
2. Starts `stance serve` in a subprocess on a free port of 127.0.0.1 and waits for /readyz.
3. Sends one article per request with 1, 8 and 32 concurrent clients (httpx, async), then a run
   where 10% of the requests are malformed (bad JSON, missing or wrong fields, control
   characters, duplicate ids, an article over the length limit): throughput (sentences/s),
   p50/p99 latency, status codes. Malformed requests must get 4xx and every good one 200;
   any 5xx other than 503 (overload, intended) counts as a failure.
4. Memory: the server's RSS before and after `--requests` more requests (short articles).
5. Stops the server with SIGTERM (it must shut down gracefully) and writes bench/results/serve_load.json.

Every loop is bounded (fixed request counts, deadlines on every wait); exits 1 on failures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import article, generate  # noqa: E402

HOST = "127.0.0.1"
JSON = {"content-type": "application/json"}

# The batch path, in a child process so that it has the CPU to itself (the server is not started yet).
_BATCH_CHILD = r"""
import json, sys, time
from stance.run.options import ScoreOptions
from stance.run.predictor import make_scorer
from stance.io.readers import iter_inputs
from stance.io.writers import normalise_row as _normalise
path, model, use_ner = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
scorer = make_scorer(ScoreOptions(model=model, use_ner=use_ner))
articles = [a for a in iter_inputs([path])]
scorer.score_articles(articles[:2])  # warm
t0 = time.perf_counter()
rows = 0
for i in range(0, len(articles), 64):
    for out in scorer.score_articles(articles[i : i + 64]):
        rows += len([_normalise(s.to_row()) for s in out])
dt = time.perf_counter() - t0
print(json.dumps({"articles": len(articles), "sentences": rows, "seconds": round(dt, 3), "sentences_per_s": round(rows / dt, 1)}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process (Linux /proc; psutil elsewhere when installed)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    try:
        import psutil

        return round(psutil.Process(pid).memory_info().rss / 2**20, 1)
    except Exception:  # noqa: BLE001  (no psutil, or the process is gone: the RSS column stays blank)
        return None


def batch_reference(articles: list[dict], model: str, use_ner: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "articles.jsonl"
        path.write_text("".join(json.dumps(a) + "\n" for a in articles))
        result = subprocess.run(
            [sys.executable, "-c", _BATCH_CHILD, str(path), model, "1" if use_ner else "0"],
            capture_output=True,
            text=True,
            timeout=3600,
        )
    if result.returncode:
        raise SystemExit(f"batch reference failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class Server:
    """`stance serve` in a subprocess, its log in a temporary file."""

    def __init__(self, model: str, use_ner: bool, extra: list[str], startup_timeout: float) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        cmd = [
            sys.executable,
            "-m",
            "stance.cli.main",
            "serve",
            "--model",
            model,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--log-level",
            "info",
            "--no-access-log",
            *([] if use_ner else ["--no-ner"]),
            *extra,
        ]
        env = {k: v for k, v in os.environ.items() if k != "STANCE_API_KEY"}
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    self.startup_s = round(time.perf_counter() - started, 2)
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        self.proc.kill()
        raise SystemExit(f"the server was not ready within {startup_timeout:.0f} s:\n{self.tail()}")

    def tail(self, n: int = 3000) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-n:]

    def rss(self) -> float | None:
        return rss_mb(self.proc.pid)

    def stop(self, timeout: float = 60) -> dict[str, Any]:
        """SIGTERM; graceful when uvicorn finished its shutdown (it then exits 0 or re-raises the signal)."""
        started = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        log = self.tail(20_000)
        graceful = code in (0, -signal.SIGTERM) and "Application shutdown complete" in log
        return {"exit_code": code, "graceful": graceful, "seconds": round(time.perf_counter() - started, 2)}


def malformed(i: int, max_chars: int) -> tuple[str, bytes]:
    """A bad request of one of several kinds (cycling), as raw bytes."""
    kinds = [
        ("bad_json", b'{"articles": [{"id": "m", "text": "unfinished'),
        ("missing_text", json.dumps({"articles": [{"id": f"m{i}", "title": "no text"}]}).encode()),
        ("wrong_type", json.dumps({"articles": [{"id": f"m{i}", "text": 42}]}).encode()),
        ("control_char", json.dumps({"articles": [{"id": f"m{i}", "text": "Moscow said \x00 no."}]}).encode()),
        (
            "duplicate_id",
            json.dumps({"articles": [{"id": "d", "text": "Moscow said no."}, {"id": "d", "text": "Kyiv said yes."}]}).encode(),
        ),
        ("empty_list", b'{"articles": []}'),
        ("too_long", json.dumps({"articles": [{"id": f"m{i}", "text": "Moscow said no. " * (max_chars // 16 + 1)}]}).encode()),
        ("not_an_object", b"[1, 2, 3]"),
    ]
    return kinds[i % len(kinds)]


async def run_load(base: str, bodies: list[tuple[str, bytes]], concurrency: int, timeout: float) -> dict[str, Any]:
    """Send every body once with ``concurrency`` clients; statistics per kind ("good" or a malformed kind)."""
    statuses: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()
    statuses_by_kind: dict[str, Counter[str]] = {kind: Counter() for kind, _ in bodies}
    latencies: list[float] = []
    sentences = 0
    next_index = itertools.count()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sentences
        while (i := next(next_index)) < len(bodies):
            kind, body = bodies[i]
            t0 = time.perf_counter()
            try:
                r = await client.post("/v1/score", content=body, headers=JSON)
            except httpx.HTTPError as exc:
                statuses["transport_error"] += 1
                unexpected[f"{kind}:{type(exc).__name__}"] += 1
                continue
            dt = time.perf_counter() - t0
            statuses[str(r.status_code)] += 1
            statuses_by_kind[kind][str(r.status_code)] += 1
            ok = r.status_code == 200 if kind == "good" else r.status_code in (400, 413, 422)
            if r.status_code == 503:
                ok = True  # overload, intended (Retry-After)
            if not ok:
                unexpected[f"{kind}:{r.status_code}"] += 1
            if kind == "good" and r.status_code == 200:
                latencies.append(dt)
                sentences += len(r.json()["rows"])

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "concurrency": concurrency,
        "requests": len(bodies),
        "seconds": round(wall, 3),
        "sentences": sentences,
        "sentences_per_s": round(sentences / wall, 1) if wall else None,
        "requests_per_s": round(len(bodies) / wall, 1) if wall else None,
        "latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p99": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000, 1) if latencies else None,
            "max": round(latencies[-1] * 1000, 1) if latencies else None,
        },
        "status_codes": dict(sorted(statuses.items())),
        **({"status_codes_by_kind": {k: dict(v) for k, v in statuses_by_kind.items()}} if len(statuses_by_kind) > 1 else {}),
        "unexpected": dict(unexpected),
    }


def good_bodies(articles: list[dict], n: int, tag: str) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        a = dict(articles[i % len(articles)], id=f"{tag}-{i}")
        out.append(("good", json.dumps({"articles": [a]}).encode()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--no-ner", action="store_true", help="registry actors only (server and reference)")
    parser.add_argument("--requests", type=int, default=10_000, help="requests for the memory check")
    parser.add_argument("--level-requests", type=int, default=300, help="requests per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--malformed-rate", type=float, default=0.1)
    parser.add_argument("--malformed-concurrency", type=int, default=8)
    parser.add_argument("--sentences", type=int, default=6000, help="size of the generated article pool")
    parser.add_argument(
        "--max-article-chars", type=int, default=100_000, help="must match the server's limit (for the too-long requests)"
    )
    parser.add_argument("--no-reference", action="store_true", help="skip timing the batch path")
    parser.add_argument("--timeout", type=float, default=120, help="client timeout per request, seconds")
    parser.add_argument("--startup-timeout", type=float, default=600)
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra `stance serve` argument (repeatable), e.g. --server-arg=--max-batch-size=64",
    )
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "serve_load.json"))
    args = parser.parse_args()
    use_ner = not args.no_ner

    articles = generate(args.sentences)
    rng = random.Random(1)
    short = [article(rng, i, 3) for i in range(200)]
    result: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        },
        "settings": {
            "model": args.model,
            "use_ner": use_ner,
            "level_requests": args.level_requests,
            "memory_requests": args.requests,
            "malformed_rate": args.malformed_rate,
            "server_args": args.server_arg,
            "articles_per_request": 1,
        },
    }
    if not args.no_reference:
        print("timing the batch path ...", flush=True)
        result["batch_reference"] = batch_reference(articles[: args.level_requests], args.model, use_ner)
        print(f"  batch: {result['batch_reference']['sentences_per_s']:,} sentences/s", flush=True)

    print("starting the server ...", flush=True)
    server = Server(
        args.model, use_ner, [*args.server_arg, "--max-article-chars", str(args.max_article_chars)], args.startup_timeout
    )
    failures: list[str] = []
    try:
        result["server"] = {"startup_s": server.startup_s, "rss_mb_at_start": server.rss()}
        asyncio.run(run_load(server.base, good_bodies(articles, 20, "warm"), 4, args.timeout))
        batches_before = httpx.get(f"{server.base}/v1/stats").json()["articles"]
        result["server"]["rss_mb_after_warmup"] = server.rss()

        result["levels"] = []
        for c in args.concurrency:
            level = asyncio.run(run_load(server.base, good_bodies(articles, args.level_requests, f"c{c}"), c, args.timeout))
            batches_after = httpx.get(f"{server.base}/v1/stats").json()["articles"]
            n_batches = batches_after["batches"] - batches_before["batches"]
            level["mean_articles_per_batch"] = (
                round((batches_after["items"] - batches_before["items"]) / n_batches, 2) if n_batches else None
            )
            batches_before = batches_after
            result["levels"].append(level)
            print(
                f"  concurrency {c:>3}: {level['sentences_per_s']:>8,} sentences/s, p50 {level['latency_ms']['p50']} ms, "
                f"p99 {level['latency_ms']['p99']} ms, {level['mean_articles_per_batch']} articles/batch, {level['status_codes']}",
                flush=True,
            )

        bodies = good_bodies(articles, args.level_requests, "mix")
        every = max(1, round(1 / args.malformed_rate)) if args.malformed_rate > 0 else 0
        if every:
            bad = (malformed(k, args.max_article_chars) for k in itertools.count())  # every kind in turn
            bodies = [next(bad) if i % every == every - 1 else b for i, b in enumerate(bodies)]
        mixed = asyncio.run(run_load(server.base, bodies, args.malformed_concurrency, args.timeout))
        mixed["malformed"] = sum(kind != "good" for kind, _ in bodies)
        result["malformed_run"] = mixed
        print(f"  {mixed['malformed']} malformed of {mixed['requests']}: {mixed['status_codes']}", flush=True)

        before = server.rss()
        samples = []
        step = max(1, args.requests // 10)
        for lo in range(0, args.requests, step):
            n = min(step, args.requests - lo)
            chunk = [
                ("good", json.dumps({"articles": [dict(short[(lo + i) % len(short)], id=f"mem-{lo + i}")]}).encode())
                for i in range(n)
            ]
            run = asyncio.run(run_load(server.base, chunk, 8, args.timeout))
            samples.append(
                {
                    "after_requests": lo + n,
                    "rss_mb": server.rss(),
                    "status_codes": run["status_codes"],
                    "unexpected": run["unexpected"],
                }
            )
        after = server.rss()
        result["memory"] = {
            "requests": args.requests,
            "rss_mb_before": before,
            "rss_mb_after": after,
            "growth_mb": round(after - before, 1) if before is not None and after is not None else None,
            "samples": samples,
        }
        print(f"  memory: {before} MB -> {after} MB after {args.requests:,} requests", flush=True)
        for block in [*result["levels"], mixed, *samples]:
            failures += [f"{k} x{v}" for k, v in block["unexpected"].items()]
    finally:
        result["shutdown"] = server.stop()
        result["server"]["log_tail"] = server.tail(2000)
    if not result["shutdown"]["graceful"]:
        failures.append(f"no graceful shutdown after SIGTERM (exit code {result['shutdown']['exit_code']})")
    if not args.no_reference and result.get("levels"):
        best = max(level["sentences_per_s"] or 0 for level in result["levels"])
        result["best_vs_batch"] = round(best / result["batch_reference"]["sentences_per_s"], 3)
    result["failures"] = failures

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}" + (f"; FAILURES: {failures}" if failures else "; no unexpected responses"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
