"""Start `modgate serve` for a benchmark: temporary config and database, free port on
127.0.0.1, and the server's resident memory and CPU time read from /proc."""

import json
import os
import signal
import socket
import subprocess
import threading
import time
import tomllib
import urllib.request
from pathlib import Path


def bench_config(source: Path, overrides: dict) -> dict:
    """`source` parsed, relative paths made absolute (the copy lives elsewhere), abuse
    limits off, then `overrides` ({"model": {"batch_size": 1}, ...}; None removes a key)
    applied."""
    with source.open("rb") as f:
        config = tomllib.load(f)
    base = source.resolve().parent

    def absolute(p: str) -> str:
        return str(base / p) if not os.path.isabs(p) else p

    model = config.setdefault("model", {})
    model["dir"] = absolute(model.get("dir", "models/bilstm"))
    if "onnx_runtime" in model:
        model["onnx_runtime"] = absolute(model["onnx_runtime"])
    for per_language in model.get("languages", {}).values():  # [model.languages] entries
        for key in ("dir", "onnx_runtime"):
            if key in per_language:
                per_language[key] = absolute(per_language[key])
    rules = config.setdefault("rules", {})
    rules["include"] = [absolute(p) for p in rules.get("include", [])]
    # The load comes from one IP and repeats texts: rate limits and duplicate detection
    # would answer most requests without doing the work being measured.
    config.setdefault("limits", {}).update(
        posts_per_minute_per_ip=0, posts_per_minute_per_author=0, duplicate_window_secs=0
    )
    for section, values in overrides.items():
        table = config.setdefault(section, {})
        for key, value in values.items():
            if value is None:  # None removes the key (e.g. [model.languages])
                table.pop(key, None)
            else:
                table[key] = value
    return config


def dump_toml(config: dict) -> str:
    """TOML for the subset config.toml uses: tables, arrays of tables, scalars, arrays
    and inline tables inside arrays."""
    lines: list[str] = []

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
        raise TypeError(f"cannot write {type(v).__name__} as TOML")

    def key(k: str) -> str:
        bare = k.replace("_", "").replace("-", "").isalnum() and k.isascii()
        return k if bare else json.dumps(k)

    def is_table_array(v) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)

    def table(path: list[str], t: dict, header: str | None) -> None:
        if header:
            lines.append(header)
        for k, v in t.items():
            if not isinstance(v, dict) and not is_table_array(v):
                lines.append(f"{key(k)} = {value(v)}")
        for k, v in t.items():
            sub = path + [key(k)]
            if isinstance(v, dict):
                table(sub, v, f"\n[{'.'.join(sub)}]")
            elif is_table_array(v):
                for item in v:
                    table(sub, item, f"\n[[{'.'.join(sub)}]]")

    table([], config, None)
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `modgate serve` on 127.0.0.1 with its own config and database in `workdir`
    (or on the PostgreSQL database `database`)."""

    def __init__(self, binary: Path, config: dict, workdir: Path, name: str, database: str | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.config_path = workdir / f"{name}.toml"
        self.config_path.write_text(dump_toml(config), encoding="utf-8")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        env = dict(
            os.environ,
            MODGATE_CONFIG=str(self.config_path),
            MODGATE_BIND=f"127.0.0.1:{self.port}",
            # A PostgreSQL URL when given (instances may share it), else a fresh SQLite file.
            MODGATE_DATABASE=database or str(workdir / f"{name}.db"),
            RUST_LOG=os.environ.get("RUST_LOG", "warn"),
        )
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [str(binary), "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.sampler = RssSampler(self.proc.pid)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"modgate exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        self.sampler.start()
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"modgate not ready after {timeout:.0f}s: {self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server so far (all threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def context_switches(self) -> int:
        """Voluntary + involuntary context switches of all the server's threads so far
        (threads that have exited are not counted)."""
        total = 0
        for status in Path(f"/proc/{self.proc.pid}/task").glob("*/status"):
            try:
                for line in status.read_text().splitlines():
                    if "ctxt_switches:" in line:
                        total += int(line.split()[1])
            except (OSError, ValueError):
                pass  # the thread exited meanwhile
        return total

    def counters(self) -> dict[str, float]:
        """Prometheus counters from /metrics (`name{labels}` -> value)."""
        with urllib.request.urlopen(self.base + "/metrics", timeout=10) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#") and "_total" in line:
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def log_tail(self, n: int = 20) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> dict:
        """SIGTERM (graceful shutdown), SIGKILL after 30 s; returns the memory figures."""
        memory = self.sampler.stop()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return memory

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.stop()


class RssSampler:
    """Peak resident set of a process: the kernel's VmHWM plus VmRSS sampled every 100 ms."""

    def __init__(self, pid: int):
        self.status = Path(f"/proc/{pid}/status")
        self.peak_rss_kb = 0
        self.hwm_kb = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def read(self) -> None:
        try:
            for line in self.status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
                elif line.startswith("VmHWM:"):
                    self.hwm_kb = max(self.hwm_kb, int(line.split()[1]))
        except OSError:
            pass  # the process has exited

    def run(self) -> None:
        while not self.done.wait(0.1):
            self.read()

    def start(self) -> None:
        self.thread.start()

    def reset_peak(self) -> None:
        self.peak_rss_kb = 0

    def stop(self) -> dict:
        self.read()
        self.done.set()
        if self.thread.is_alive():
            self.thread.join()
        return {"peak_rss_mb": self.peak_rss_kb / 1024, "vm_hwm_mb": self.hwm_kb / 1024}
