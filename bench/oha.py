"""Run the `oha` HTTP load generator against 127.0.0.1 and read its JSON summary."""

import json
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass, field
from urllib.parse import urlsplit

INSTALL_HINT = "cargo install oha --locked --no-default-features --features native-tls  (no aws-lc build)"


def find_oha() -> str:
    path = shutil.which("oha") or os.path.expanduser("~/.cargo/bin/oha")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"oha not found; install it with: {INSTALL_HINT}")
    return path


@dataclass
class Result:
    requests: int
    seconds: float
    rps: float  # responses per second, successful or not
    ok: int  # 2xx responses
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    client_cpu_s: float = 0.0  # CPU time oha itself used (it shares the cores)


def run(
    url: str,
    seconds: float,
    connections: int,
    rate: float | None = None,
    bodies: str | None = None,
    threads: int = 1,
) -> Result:
    """`seconds` of load with `connections` connections; at `rate` requests/s (latency
    corrected for coordinated omission) or as fast as the server answers. With `bodies`
    each request POSTs a random line of that file as JSON."""
    if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"refusing to load anything but this machine: {url}")
    cmd = [
        find_oha(), "--no-tui", "--output-format", "json",
        "-z", f"{seconds}s", "-w", "-c", str(connections), "-t", "30s",
        "--worker-threads", str(threads), "--disable-compression",
    ]  # fmt: skip
    if rate:
        cmd += ["-q", str(rate), "--latency-correction"]
    if bodies:
        cmd += ["-m", "POST", "-T", "application/json", "-Z", bodies]
    cmd.append(url)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Bounded: oha stops after `seconds`, waits at most the 30 s request timeout.
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 90, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"oha failed ({out.returncode}): {out.stderr.strip()}")
    data = json.loads(out.stdout)
    summary, pct = data["summary"], data["latencyPercentiles"]
    statuses = data.get("statusCodeDistribution", {})
    requests = sum(statuses.values()) + sum(data.get("errorDistribution", {}).values())
    return Result(
        requests=requests,
        seconds=summary["total"],
        rps=sum(statuses.values()) / summary["total"],
        ok=sum(n for code, n in statuses.items() if code.startswith("2")),
        p50_ms=(pct.get("p50") or 0) * 1000,
        p90_ms=(pct.get("p90") or 0) * 1000,
        p99_ms=(pct.get("p99") or 0) * 1000,
        max_ms=(summary.get("slowest") or 0) * 1000,
        statuses=statuses,
        errors=data.get("errorDistribution", {}),
        client_cpu_s=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    )
