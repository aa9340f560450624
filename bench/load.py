"""Load harness for modgate: end-to-end comment intake and thread reads against the release
binary on 127.0.0.1, with the batching and group-commit baselines (and optionally another
build, --compare-binary) measured in the same run.

    bench/load.sh [--duration 10] [--out results.json]     (see bench/README.md)

Each scenario starts its own server (fresh temporary database, abuse limits off), warms
it up, then drives it with oha at fixed rates (latency corrected for coordinated
omission) and at maximum rate. Prints a Markdown table; `--out` also writes JSON.
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import bodies as bodies_mod
import oha
from server import Server, bench_config

ROOT = Path(__file__).resolve().parent.parent
POST_PATH = "/api/v1/comments"
THREAD_ARTICLE = "bench-thread"
THREAD_SIZE = 500
HOT_POST_RATE = 200  # comments/s posted to the thread while it is read in the last step
MAX_CONNECTIONS = 64  # enough in flight to fill a batch of 32 and a commit group of 64
# A closed loop of 64 connections measures 64 / latency, not what the server can sustain:
# the default scenario also runs at maximum rate with this many connections.
WIDE_CONNECTIONS = 256

# name, config overrides, fixed rates (req/s); every scenario also runs at maximum rate.
# The first is the reference for the ratios: the shipped config with one model, the BiLSTM,
# for every language. config.toml scores with a transformer (e5-toxic-full since it became
# the default, or per language under [model.languages]); that costs far more per comment
# and is measured on its own.
ONE_MODEL = {"languages": None, "backend": "bilstm", "dir": str(ROOT / "models/bilstm")}
SCENARIOS = [
    ("default, BiLSTM for every language", {"model": ONE_MODEL}, [500, 1000, 2000, 3000]),
    ("shipped config.toml, models as configured", {}, [500, 1000]),
    ("baseline: batching off (batch_size 1)", {"model": {**ONE_MODEL, "batch_size": 1}}, [1000]),
    ("baseline: sync per comment (group_commit_max 1)", {"model": ONE_MODEL, "database": {"group_commit_max": 1}}, [1000]),
]
SHIPPED = SCENARIOS[1][0]
# --only postgres: the stores compared, BiLSTM for every language (so the store, not the
# model, limits intake): (name, instances, on PostgreSQL).
STORES = [
    ("one instance, SQLite", 1, False),
    ("one instance, PostgreSQL", 1, True),
    ("two instances, PostgreSQL", 2, True),
]
STORE_RATES = [500, 1000]
# --only transformer (issue 14's aims): 60% English / 40% Russian comments, the BiLSTM and
# the transformers in one run, at 150/s offered (the p99 aim) and at maximum rate (the
# comments actually scored); --transformer-dir adds a model directory (a student, say).
TRANSFORMER_WEIGHTS = {"en_long": 0.40, "en_short": 0.20, "ru": 0.40}
TRANSFORMER_RATES = [150, 300]
TRANSFORMER_SCENARIOS = [
    ("BiLSTM for every language", {"model": ONE_MODEL}),
    ("shipped config.toml", {}),
    (
        "cascade: e5-toxic-full-cascade-int8",
        {"model": {"languages": None, "backend": "onnx", "cascade": True, "dir": str(ROOT / "models/e5-toxic-full-cascade-int8")}},
    ),
]
TRANSFORMER_AIMS = {"scored_per_s": 300, "p99_ms_at_150": 100, "peak_rss_mb": 300}
COMPARE = "before: --compare-binary"
COMPARE_SHIPPED = "before: --compare-binary, shipped config.toml"


def machine() -> dict:
    model = next(
        (line.split(":", 1)[1].strip() for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
         if line.startswith("Model name")),
        platform.processor(),
    )  # fmt: skip
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release()}


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


PERF_DIR: Path | None = None  # --perf: profile the server during the maximum-rate steps


def step(server: Server, name: str, url: str, seconds: float, rate=None, bodies=None, connections=MAX_CONNECTIONS) -> dict:
    """One measured run; adds the server's CPU time and peak RSS during it."""
    load_before = loadavg()
    server.sampler.reset_peak()
    cpu0, counters0, switches0 = server.cpu_seconds(), server.counters(), server.context_switches()
    perf = None
    if PERF_DIR and rate is None:
        out = PERF_DIR / f"{server.name}-{''.join(c if c.isalnum() else '_' for c in name)}.data"
        perf = subprocess.Popen(
            ["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-p", str(server.proc.pid),
             "-o", str(out), "--", "sleep", str(seconds)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    result = oha.run(url, seconds, connections, rate=rate, bodies=bodies)
    cpu = server.cpu_seconds() - cpu0
    switches = server.context_switches() - switches0
    if perf:
        perf.wait(timeout=60)
    counted = {k: v - counters0.get(k, 0) for k, v in server.counters().items()}
    # Stored unscored (queue full or model timeout): the model did not run for these.
    unscored = sum(v for k, v in counted.items() if "scoring_failures" in k)
    row = {
        "step": name,
        "rate": rate,
        **asdict(result),
        "server_cpu_s": cpu,
        "server_cpu_ms_per_request": 1000 * cpu / max(result.ok, 1),
        "unscored": int(unscored),
        # Answered with the model's verdict (issue 14's "actually scored"): 2xx minus unscored.
        "scored_per_s": max(result.ok - int(unscored), 0) / seconds,
        "context_switches_per_request": switches / max(result.requests, 1),
        "verdicts": {k: int(v) for k, v in counted.items() if "comments_received" in k and v},
        "peak_rss_mb": server.sampler.peak_rss_kb / 1024,
        "loadavg_before": load_before,
    }
    print(f"  {format_row(row)}", file=sys.stderr, flush=True)
    time.sleep(2)  # let queues drain and the WAL checkpoint before the next step
    return row


def format_row(r: dict) -> str:
    bad = r["requests"] - r["ok"]
    return (
        f"{r['step']:<22} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.1f}  p90 {r['p90_ms']:6.1f}  "
        f"p99 {r['p99_ms']:6.1f} ms  non-2xx/errors {bad}  unscored {r['unscored']}  scored {r.get('scored_per_s', 0):.0f}/s  server CPU {r['server_cpu_ms_per_request']:.3f} ms/req  "
        f"switches {r['context_switches_per_request']:.1f}/req  "
        f"oha CPU {r['client_cpu_s']:.1f}s  RSS {r['peak_rss_mb']:.0f} MB  load {r['loadavg_before']:.1f}"
    )


def intake(server: Server, body_file: str, rates: list[int], seconds: float, wide: bool, warm_rate=None) -> list[dict]:
    url = server.base + POST_PATH
    # Warm-up, not reported; at `warm_rate` where a maximum-rate warm-up would leave a backlog
    # to re-score during the first step (a transformer).
    oha.run(url, 3, MAX_CONNECTIONS, rate=warm_rate, bodies=body_file)
    rows = [step(server, f"POST at {r}/s", url, seconds, rate=r, bodies=body_file) for r in rates]
    rows.append(step(server, "POST at max", url, seconds, bodies=body_file))
    if wide:
        name = f"POST at max, {WIDE_CONNECTIONS} conn."
        rows.append(step(server, name, url, seconds, bodies=body_file, connections=WIDE_CONNECTIONS))
    return rows


def by_language(server: Server, tmp: Path, mix: list[dict], total: int, seconds: float) -> list[dict]:
    """English and Russian comments at `total`/s together, in the mix's proportions, as two
    load generators: one row each, so the English latency shows whether it waits on the
    Russian model."""
    en = [b for b in mix if b["_source"] != "ru"]
    ru = [b for b in mix if b["_source"] == "ru"]
    rates = {"en": round(total * len(en) / len(mix)), "ru": round(total * len(ru) / len(mix))}
    files = {}
    for lang, bodies in (("en", en), ("ru", ru)):
        files[lang] = tmp / f"{server.name}-{lang}.jsonl"
        bodies_mod.write_jsonl(bodies, files[lang])
    url = server.base + POST_PATH
    side: dict = {}
    other = threading.Thread(
        target=lambda: side.update(r=oha.run(url, seconds, MAX_CONNECTIONS, rate=rates["ru"], bodies=str(files["ru"])))
    )
    other.start()
    row = step(server, f"POST en at {rates['en']}/s (+ ru at {rates['ru']}/s)", url, seconds, rate=rates["en"], bodies=str(files["en"]))
    other.join()
    r = side["r"]
    ru_row = {
        **{k: v for k, v in row.items() if k not in asdict(r)},
        **asdict(r),
        "step": f"POST ru at {rates['ru']}/s (+ en at {rates['en']}/s)",
        "rate": rates["ru"],
        "server_cpu_ms_per_request": float("nan"),  # the server's CPU is shared by both
    }
    return [row, ru_row]


def spread(servers: list[Server], name: str, seconds: float, rate=None, bodies=None) -> dict:
    """One measured step over several instances at once, as a load balancer would spread
    it: one oha per instance at `rate`/n with its share of the connections. Throughput and
    CPU are summed; latency percentiles are the worst instance's."""
    if len(servers) == 1:
        return step(servers[0], name, servers[0].base + POST_PATH, seconds, rate=rate, bodies=bodies)
    load_before = loadavg()
    before = [(s.cpu_seconds(), s.counters()) for s in servers]
    for s in servers:
        s.sampler.reset_peak()
    share = rate / len(servers) if rate else None
    conns = MAX_CONNECTIONS // len(servers)
    with ThreadPoolExecutor(len(servers)) as pool:
        results = list(pool.map(lambda s: oha.run(s.base + POST_PATH, seconds, conns, rate=share, bodies=bodies), servers))
    cpu = sum(s.cpu_seconds() - b[0] for s, b in zip(servers, before))
    unscored = 0
    for s, (_, counters0) in zip(servers, before):
        counted = {k: v - counters0.get(k, 0) for k, v in s.counters().items()}
        unscored += sum(v for k, v in counted.items() if "scoring_failures" in k)
    ok = sum(r.ok for r in results)
    requests = sum(r.requests for r in results)
    row = {
        "step": name,
        "rate": rate,
        "requests": requests,
        "seconds": max(r.seconds for r in results),
        "rps": sum(r.rps for r in results),
        "ok": ok,
        "p50_ms": max(r.p50_ms for r in results),
        "p90_ms": max(r.p90_ms for r in results),
        "p99_ms": max(r.p99_ms for r in results),
        "max_ms": max(r.max_ms for r in results),
        "statuses": {},
        "errors": {},
        "client_cpu_s": sum(r.client_cpu_s for r in results),
        "server_cpu_s": cpu,
        "server_cpu_ms_per_request": 1000 * cpu / max(ok, 1),
        "unscored": int(unscored),
        "context_switches_per_request": float("nan"),
        "verdicts": {},
        "peak_rss_mb": sum(s.sampler.peak_rss_kb for s in servers) / 1024,
        "loadavg_before": load_before,
    }
    print(f"  {format_row(row)}", file=sys.stderr, flush=True)
    time.sleep(2)
    return row


def postgres_runs(args, binary: Path, tmp: Path, body_file: str, rounds: int) -> list:
    """--only postgres: intake on SQLite, on PostgreSQL, and by two instances sharing
    PostgreSQL, in one run on one machine. PostgreSQL is a throwaway cluster with its
    default durability (scripts/postgres.sh start --durable), as SQLite's synchronous=FULL."""
    started = subprocess.run(
        [str(ROOT / "scripts/postgres.sh"), "start", "--durable"], capture_output=True, text=True, check=True
    ).stdout
    env = dict(line.removeprefix("export ").split("=", 1) for line in started.splitlines() if "=" in line)
    server_url, pg_dir = env["MODGATE_TEST_POSTGRES"], env["MODGATE_PG_DIR"]
    runs = []
    try:
        for n in range(1, rounds + 1):
            for i, (name, instances, on_postgres) in enumerate(STORES):
                print(f"round {n}, {name}:", file=sys.stderr, flush=True)
                database = None
                if on_postgres:
                    db = f"bench_r{n}s{i}"
                    subprocess.run(["psql", "-q", server_url, "-c", f"CREATE DATABASE {db}"], check=True)
                    database = server_url.rsplit("/", 1)[0] + "/" + db
                config = bench_config(args.config, {"model": ONE_MODEL})
                servers = [
                    Server(binary, config, tmp / f"r{n}s{i}i{k}", f"r{n}s{i}i{k}", database=database)
                    for k in range(instances)
                ]
                try:
                    for server in servers:
                        server.wait_ready()
                    for server in servers:  # warm-up, not reported
                        oha.run(server.base + POST_PATH, 3, MAX_CONNECTIONS // instances, bodies=body_file)
                    rows = [spread(servers, f"POST at {r}/s", args.duration, rate=r, bodies=body_file) for r in STORE_RATES]
                    rows.append(spread(servers, "POST at max", args.duration, bodies=body_file))
                finally:
                    for server in servers:
                        server.stop()
                runs.append((n, name, rows))
    finally:
        subprocess.run([str(ROOT / "scripts/postgres.sh"), "stop", pg_dir], check=False)
    return runs


def store_report(runs: list, info: dict) -> str:
    """The stores' table, with each scenario's maximum rate as a ratio of SQLite's."""
    out = [
        f"machine: {info['machine']}, {info['duration_s']:.0f} s per step",
        "",
        "| round | store | step | req/s | p50 ms | p99 ms | non-2xx | unscored | server CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, scenario, rows in runs:
        for r in rows:
            out.append(
                f"| {n} | {scenario} | {r['step']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                f"{r['requests'] - r['ok']} | {r['unscored']} | {r['server_cpu_ms_per_request']:.3f} |"
            )
    out.append("")
    base = {n: by_step(rows, "POST at max") for n, scenario, rows in runs if scenario == STORES[0][0]}
    for name, _, _ in STORES[1:]:
        ratios = [
            by_step(rows, "POST at max")["rps"] / base[n]["rps"]
            for n, scenario, rows in runs
            if scenario == name and base.get(n) and by_step(rows, "POST at max")
        ]
        if ratios:
            out.append(f"- {name} vs {STORES[0][0]}, POST at max: x{statistics.median(ratios):.2f}")
    return "\n".join(out)


def post(base: str, body: dict) -> dict:
    req = urllib.request.Request(
        base + POST_PATH,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def seed_thread(server: Server, mix: list[dict]) -> int:
    """Posts comments (a fifth of them replies) to one article until THREAD_SIZE are
    visible in its thread; returns the thread's count."""
    rng = random.Random(11)
    published: list[int] = []
    visible = posted = 0
    with ThreadPoolExecutor(8) as pool:
        while visible < THREAD_SIZE and posted < 4 * THREAD_SIZE:
            batch = []
            for b in rng.sample(mix, 50):
                body = {"article_id": THREAD_ARTICLE, "author_name": f"thread reader {posted}", "body": b["body"]}
                if published and rng.random() < 0.2:
                    body["parent_id"] = rng.choice(published)
                batch.append(body)
                posted += 1
            for answer in pool.map(lambda b: post(server.base, b), batch):
                if answer["status"] == "published":
                    published.append(answer["id"])
                if answer["status"] in ("published", "removed"):
                    visible += 1
    with urllib.request.urlopen(f"{server.base}/api/v1/articles/{THREAD_ARTICLE}/comments?limit=500") as r:
        return json.load(r)["count"]


def thread_reads(server: Server, mix: list[dict], seconds: float, tmp: Path) -> list[dict]:
    count = seed_thread(server, mix)
    rows = []
    for name, query in [("GET thread, all", "?limit=500"), ("GET thread, first page", "")]:
        url = f"{server.base}/api/v1/articles/{THREAD_ARTICLE}/comments{query}"
        with urllib.request.urlopen(url) as r:
            size = len(r.read())
        oha.run(url, 2, 32)  # warm-up
        row = step(server, name, url, seconds, connections=32)
        row["response_bytes"] = size
        row["thread_comments"] = count
        rows.append(row)
    # A story that is being commented on while it is read: every commit retires the
    # cached thread, and the thread grows by HOT_POST_RATE comments a second.
    hot = tmp / f"hot-{server.name}.jsonl"
    bodies_mod.write_jsonl(
        [{**b, "article_id": THREAD_ARTICLE, "author_name": f"hot reader {i}"} for i, b in enumerate(mix[:4000])],
        hot,
    )
    url = f"{server.base}/api/v1/articles/{THREAD_ARTICLE}/comments?limit=500"
    posted: dict = {}
    poster = threading.Thread(
        target=lambda: posted.update(r=oha.run(server.base + POST_PATH, seconds, MAX_CONNECTIONS, rate=HOT_POST_RATE, bodies=str(hot)))
    )
    poster.start()
    row = step(server, f"GET thread, all, {HOT_POST_RATE} posts/s to it", url, seconds, connections=32)
    poster.join()
    p = posted["r"]
    row["concurrent_posts"] = asdict(p)
    print(
        f"    ... meanwhile POST to that article: {p.rps:.0f}/s, p99 {p.p99_ms:.1f} ms, non-2xx/errors {p.requests - p.ok}",
        file=sys.stderr,
        flush=True,
    )
    rows.append(row)
    return rows


def by_step(rows: list[dict], name: str) -> dict | None:
    return next((r for r in rows if r["step"] == name), None)


def report(runs: list[tuple[int, str, list[dict]]], info: dict) -> str:
    """Markdown table of every step, then the baseline ratios per round and their median."""
    out = [
        f"Machine: {info['machine']['cpu']}, {info['machine']['cores']} cores; "
        f"load average {info['load_start']:.2f} at start, {info['load_end']:.2f} at end.",
        f"Mix: {info['mix']}",
        "",
        "| round | scenario | step | req/s | p50 ms | p90 ms | p99 ms | non-2xx | unscored | scored/s | server CPU ms/req | switches/req | peak RSS MB |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, scenario, rows in runs:
        for r in rows:
            out.append(
                f"| {n} | {scenario} | {r['step']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | "
                f"{r['p99_ms']:.1f} | {r['requests'] - r['ok']} | {r['unscored']} | {r.get('scored_per_s', 0):.0f} | "
                f"{r['server_cpu_ms_per_request']:.3f} | "
                f"{r['context_switches_per_request']:.1f} | {r['peak_rss_mb']:.0f} |"
            )
    out.append("")
    # Ratios within a round only: the machine's other load drifts between rounds.
    defaults = {n: rows for n, scenario, rows in runs if scenario == SCENARIOS[0][0]}
    compared = [(n, rows) for n, scenario, rows in runs if scenario == COMPARE]
    if not compared:  # --only shipped: this build's shipped scenario against the other build's
        defaults = {n: rows for n, scenario, rows in runs if scenario == SHIPPED}
        compared = [(n, rows) for n, scenario, rows in runs if scenario == COMPARE_SHIPPED]
    if compared:
        out.append(f"- this build vs {info['compare']}, step by step (median over rounds; req/s ratio per round):")
        for name in [r["step"] for r in compared[0][1]]:
            pairs = [(by_step(defaults.get(n, []), name), by_step(rows, name)) for n, rows in compared]
            pairs = [(a, b) for a, b in pairs if a and b]
            if not pairs:
                continue
            med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
            after, before = [a for a, _ in pairs], [b for _, b in pairs]
            rps = [a["rps"] / b["rps"] for a, b in pairs]
            out.append(
                f"  - {name}: req/s {med(before, 'rps'):.0f} -> {med(after, 'rps'):.0f} "
                f"(x{statistics.median(rps):.2f}; {', '.join(f'x{r:.2f}' for r in rps)}), "
                f"p99 {med(before, 'p99_ms'):.1f} -> {med(after, 'p99_ms'):.1f} ms, "
                f"CPU {med(before, 'server_cpu_ms_per_request'):.3f} -> {med(after, 'server_cpu_ms_per_request'):.3f} ms/request"
            )
    for scenario, _, _ in SCENARIOS[1:]:
        if scenario == SHIPPED:
            continue
        for name, what in [("POST at max", "throughput"), ("POST at 1000/s", "p99 at 1000/s")]:
            ratios = []
            for n, sc, rows in runs:
                a, b = by_step(defaults.get(n, []), name), by_step(rows, name)
                if sc == scenario and a and b:
                    ratios.append(a["rps"] / b["rps"] if what == "throughput" else b["p99_ms"] / a["p99_ms"])
            if ratios:
                each = ", ".join(f"x{r:.2f}" for r in ratios)
                out.append(f"- {SCENARIOS[0][0]} vs {scenario}: {what} x{statistics.median(ratios):.2f} (per round: {each})")
    for scenario, mb in info["vm_hwm_mb"].items():
        out.append(f"- server peak resident set (VmHWM), {scenario}: {mb:.0f} MB")
    return "\n".join(out)


def model_keys(text: str) -> dict:
    """`sessions=2,threads=1` as {"sessions": 2, "threads": 1} (values read as TOML)."""
    keys = {}
    for pair in filter(None, text.split(",")):
        key, _, value = pair.partition("=")
        keys[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
    return keys


def transformer_runs(args, tmp: Path, body_file: str) -> tuple[list, dict]:
    """--only transformer: each scenario's server at the fixed rates and at maximum rate,
    rounds interleaved; returns the rows and each scenario's peak resident set."""
    def label(d: Path) -> str:
        d = d.resolve()
        return str(d.relative_to(ROOT)) if d.is_relative_to(ROOT) else str(d)

    scenarios = list(TRANSFORMER_SCENARIOS) + [
        (label(d), {"model": {"languages": None, "backend": "onnx", "dir": str(d.resolve())}}) for d in dict.fromkeys(args.transformer_dir)
    ] + [(f"shipped config.toml, [model] {keys}", {"model": model_keys(keys)}) for keys in dict.fromkeys(args.transformer_model)]
    runs, hwm = [], {}
    for n in range(1, args.rounds + 1):
        for i, (name, overrides) in enumerate(scenarios):
            print(f"round {n}, {name}:", file=sys.stderr, flush=True)
            tag = f"r{n}t{i}"
            with Server(args.binary, bench_config(args.config, overrides), tmp / tag, tag) as server:
                server.wait_ready()
                rows = intake(server, body_file, TRANSFORMER_RATES, args.duration, False, warm_rate=TRANSFORMER_RATES[0])
                hwm[name] = max(hwm.get(name, 0.0), server.stop()["vm_hwm_mb"])
            runs.append((n, name, rows))
    return runs, hwm


def transformer_summary(runs: list, hwm: dict) -> str:
    """Per scenario, medians over rounds of the comments scored per second at maximum rate
    and of p99 at 150/s offered, and the highest resident set of any round, against issue
    14's aims."""
    aims = TRANSFORMER_AIMS
    out = [
        "",
        f"| scenario | scored/s at max (aim >= {aims['scored_per_s']}) | answered/s at max | "
        f"p99 at 150/s (aim <= {aims['p99_ms_at_150']} ms) | unscored at 150/s | peak RSS (aim <= {aims['peak_rss_mb']} MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in dict.fromkeys(name for _, name, _ in runs):
        rows = [r for _, sc, r in runs if sc == name]
        top = [by_step(r, "POST at max") for r in rows]
        slow = [by_step(r, "POST at 150/s") for r in rows]
        med = lambda xs, k: statistics.median(x[k] for x in xs if x)  # noqa: E731
        each = ", ".join(f"{x['scored_per_s']:.0f}" for x in top if x)
        out.append(
            f"| {name} | {med(top, 'scored_per_s'):.0f} ({each}) | {med(top, 'rps'):.0f} | "
            f"{med(slow, 'p99_ms'):.1f} ms | {med(slow, 'unscored'):.0f} | {hwm[name]:.0f} MB |"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per measured step")
    ap.add_argument("--binary", type=Path, default=ROOT / "target/release/modgate")
    ap.add_argument("--config", type=Path, default=ROOT / "config.toml")
    ap.add_argument("--eval-dir", type=Path, default=bodies_mod.default_eval_dir())
    ap.add_argument(
        "--only",
        choices=["default", "baselines", "intake", "thread", "shipped", "postgres", "transformer"],
        help="default: the default config only; baselines: every scenario at 1000/s and max only; "
        "intake: the default config without thread reads; thread: only the thread reads; "
        "shipped: config.toml as configured (with --compare-binary: against that build); "
        "postgres: intake on SQLite, on PostgreSQL and by two instances on PostgreSQL; "
        "transformer: 60%% English / 40%% Russian, the BiLSTM, the shipped config and the cascade (issue 14's aims)",
    )
    ap.add_argument(
        "--transformer-dir",
        type=Path,
        action="append",
        default=[],
        help="--only transformer: also measure this ONNX model directory for every language (repeatable)",
    )
    ap.add_argument(
        "--transformer-model",
        action="append",
        default=[],
        metavar="KEY=VALUE,...",
        help="--only transformer: also measure the shipped config with these [model] keys changed, "
        "e.g. sessions=2,threads=1 (repeatable)",
    )
    ap.add_argument("--rounds", type=int, default=1, help="repeat all scenarios this many times, interleaved")
    ap.add_argument("--out", type=Path, help="also write the figures as JSON here")
    ap.add_argument(
        "--compare-binary",
        type=Path,
        help="also run the default scenario with this binary (e.g. a build of the previous commit) "
        "in every round, right after this build's, and report the ratios",
    )
    ap.add_argument("--compare-config", type=Path, help="config.toml for --compare-binary (default: --config)")
    ap.add_argument("--perf", type=Path, help="record `perf` profiles of the server's maximum-rate steps in this folder")
    args = ap.parse_args()
    if args.only == "transformer" and args.compare_binary:
        ap.error("--only transformer compares models in one build: --compare-binary does not apply")
    global PERF_DIR
    if args.perf:
        args.perf.mkdir(parents=True, exist_ok=True)
        PERF_DIR = args.perf

    oha.find_oha()
    info = {"machine": machine(), "load_start": loadavg(), "duration_s": args.duration}
    with args.config.open("rb") as f:
        configured = tomllib.load(f)
    # The shipped scenario differs from the first unless config.toml is the BiLSTM alone.
    model_cfg = configured.get("model", {})
    has_languages = bool(model_cfg.get("languages")) or model_cfg.get("backend", "bilstm") != "bilstm"
    scenarios = [
        (name, overrides, rates, args.binary, args.config)
        for name, overrides, rates in SCENARIOS
        if name != SHIPPED or has_languages  # without [model.languages] it is the first
    ]
    if args.only in ("default", "intake", "thread"):
        scenarios = scenarios[:1]
    if args.only == "shipped":
        if not has_languages:
            sys.exit(f"{args.config} scores with the BiLSTM alone: --only shipped has nothing to measure")
        scenarios = [s for s in scenarios if s[0] == SHIPPED]
    if args.compare_binary:
        info["compare"] = str(args.compare_binary)
        compare_config = args.compare_config or args.config
        if args.only == "shipped":
            scenarios.insert(1, (COMPARE_SHIPPED, {}, SCENARIOS[1][2], args.compare_binary, compare_config))
        else:
            scenarios.insert(1, (COMPARE, {"model": ONE_MODEL}, SCENARIOS[0][2], args.compare_binary, compare_config))
    with tempfile.TemporaryDirectory(prefix="modgate-bench-") as tmp:
        tmp = Path(tmp)
        weights = TRANSFORMER_WEIGHTS if args.only == "transformer" else None
        mix, mix_name = bodies_mod.build(20000, 7, args.eval_dir, weights)
        info["mix"] = bodies_mod.describe(mix, mix_name)
        print(info["mix"], file=sys.stderr)
        body_file = str(tmp / "bodies.jsonl")
        bodies_mod.write_jsonl(mix, Path(body_file))
        if args.only == "transformer":
            runs, hwm = transformer_runs(args, tmp, body_file)
            info["load_end"] = loadavg()
            info["vm_hwm_mb"] = hwm
            text = report(runs, info) + "\n" + transformer_summary(runs, hwm)
            print(text)
            if args.out:
                args.out.write_text(json.dumps({"info": info, "runs": runs}, indent=2))
            return
        if args.only == "postgres":
            runs = postgres_runs(args, args.binary, tmp, body_file, args.rounds)
            info["load_end"] = loadavg()
            text = store_report(runs, info)
            print(text)
            if args.out:
                args.out.write_text(json.dumps({"info": info, "runs": runs}, indent=2))
            return

        runs, hwm = [], {}
        for n in range(1, args.rounds + 1):
            for i, (name, overrides, rates, binary, config_path) in enumerate(scenarios):
                if name == SHIPPED and n > 1 and args.only != "shipped":
                    continue  # slow, and only shown for its order of magnitude
                full = name in (SCENARIOS[0][0], COMPARE)
                if args.only == "baselines":
                    rates = [1000]
                print(f"round {n}, {name}:", file=sys.stderr, flush=True)
                config = bench_config(config_path, overrides)
                tag = f"r{n}s{i}"
                with Server(binary, config, tmp / tag, tag) as server:
                    server.wait_ready()
                    wide = full and args.only != "baselines"
                    rows = [] if args.only == "thread" else intake(server, body_file, rates, args.duration, wide)
                    if name in (SHIPPED, COMPARE_SHIPPED):
                        rows += by_language(server, tmp, mix, 1000, args.duration)
                    if full and args.only not in ("intake", "baselines"):
                        rows += thread_reads(server, mix, args.duration, tmp)
                    hwm[name] = max(hwm.get(name, 0.0), server.stop()["vm_hwm_mb"])
                runs.append((n, name, rows))
        info["load_end"] = loadavg()
        info["vm_hwm_mb"] = hwm
    text = report(runs, info)
    print(text)
    if args.out:
        args.out.write_text(json.dumps({"info": info, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
