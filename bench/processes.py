"""Child processes of the benchmarks: started with ``python -m``, measured through ``/proc``.

A child says what it is doing with one JSON object per line on its stdout (``{"event":
"ready", ...}``), reads commands from its stdin, and writes its logs to a file of the work
directory, quoted when it fails. Peak RSS is the kernel's high-water mark of the process
(``VmHWM`` in ``/proc/<pid>/status``), read before the process is stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]


def announce(event: str, **data: Any) -> None:
    """Tell the parent what happened (a child's side of the protocol)."""
    sys.stdout.write(json.dumps({"event": event, **data}) + "\n")
    sys.stdout.flush()


def peak_rss_mb(pid: int | None = None) -> float | None:
    """Peak resident memory of ``pid`` in MB (None when unknown); this process by default."""
    if pid is None or pid == os.getpid():
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time ``pid`` has used so far (None when unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class CpuMeter:
    """CPU each named process used over a window, as a share of one core.

    Taken between :meth:`start` and :meth:`stop`; 0 (this process) is measured too. The sum
    against ``os.cpu_count()`` tells whether the machine itself was the limit.
    """

    def __init__(self, pids: Mapping[str, int | None]) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid is not None}
        self._began: dict[str, float] = {}
        self._at = 0.0
        #: Share of one core per process, once stopped.
        self.shares: dict[str, float] = {}

    def _now(self, pid: int) -> float | None:
        return time.process_time() if pid in (0, os.getpid()) else cpu_seconds(pid)

    def start(self) -> CpuMeter:
        """Open the window."""
        self._at = time.monotonic()
        self._began = {name: cpu for name, pid in self.pids.items()
                       if (cpu := self._now(pid)) is not None}
        return self

    def stop(self) -> dict[str, float]:
        """Close the window (before the processes stop); return the shares."""
        elapsed = time.monotonic() - self._at
        for name, began in self._began.items():
            cpu = self._now(self.pids[name])
            if cpu is not None and elapsed > 0:
                self.shares[name] = round((cpu - began) / elapsed, 2)
        return self.shares

    @property
    def cores(self) -> float:
        """The shares added up: cores busy on average over the window."""
        return round(sum(self.shares.values()), 2)


class ChildFailed(RuntimeError):
    """A child process exited, or did not say what was expected in time."""


class Child:
    """One child process speaking JSON lines."""

    def __init__(self, name: str, module: str, args: Iterable[str], env: Mapping[str, str],
                 log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=ROOT, env={**os.environ, **env},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, name=f"read-{name}", daemon=True).start()
        #: Peak RSS read when the child was stopped.
        self.peak_rss_mb: float | None = None

    @property
    def pid(self) -> int:
        """Process id."""
        return self.process.pid

    @property
    def key(self) -> str:
        """The child's name as a JSON key of the figures (``worker-erp`` → ``worker_erp``)."""
        return self.name.replace("-", "_")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue  # a library printing on stdout: not ours
            try:
                self._lines.put(json.loads(line))
            except ValueError:
                continue
        self._lines.put(None)

    def log_tail(self, chars: int = 1500) -> str:
        """The end of the child's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def expect(self, event: str, timeout_s: float) -> dict[str, Any]:
        """Wait for the child to announce ``event``; return what it said."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChildFailed(f"{self.name} did not announce {event!r} in {timeout_s:.0f} s; "
                                  f"its log ends with:\n{self.log_tail()}")
            try:
                said = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if said is None:
                raise ChildFailed(f"{self.name} exited with code {self.process.wait()} before "
                                  f"announcing {event!r}; its log ends with:\n{self.log_tail()}")
            if said.get("event") == event:
                return said
            if said.get("event") == "error":
                raise ChildFailed(f"{self.name}: {said.get('message')}; its log ends with:\n"
                                  f"{self.log_tail()}")

    def send(self, command: str) -> None:
        """Write one command line to the child's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def terminate(self) -> None:
        """Read the peak RSS, close stdin and send SIGTERM (a child finishes its batch)."""
        if self.process.poll() is None:
            self.peak_rss_mb = peak_rss_mb(self.pid)
            with contextlib.suppress(OSError):
                assert self.process.stdin is not None
                self.process.stdin.close()  # a child waiting for a command reads EOF
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout_s: float = 20.0) -> None:
        """Wait for the child's exit (SIGKILL if it hangs)."""
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout_s)
        self._log.close()

    def stop(self, timeout_s: float = 20.0) -> None:
        """Read the peak RSS, then SIGTERM (SIGKILL if it hangs) and wait."""
        self.terminate()
        self.wait(timeout_s)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def expect_all(children: Iterable[Child], event: str, timeout_s: float) -> list[dict[str, Any]]:
    """Wait until every child announced ``event`` (they start in parallel)."""
    deadline = time.monotonic() + timeout_s
    return [child.expect(event, max(0.1, deadline - time.monotonic())) for child in children]


def stop_all(children: Iterable[Child], timeout_s: float = 20.0) -> None:
    """Stop children together (each reads its peak RSS first)."""
    children = list(children)
    for child in children:
        child.terminate()
    for child in children:
        child.wait(timeout_s)


def wait_for_stdin_line() -> str:
    """Block until the parent writes a line (a child's side); '' when stdin closed."""
    return sys.stdin.readline().strip()


def when_parent_goes(callback: Callable[[], None]) -> None:
    """Call ``callback`` once stdin reaches its end: the parent closed it, or died (a child's side).

    So no child outlives a benchmark that was killed.
    """
    def watch() -> None:
        while sys.stdin.readline():
            pass
        callback()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def wait_for_termination() -> None:
    """Block until SIGTERM, SIGINT or the parent's end (a child's side)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    when_parent_goes(stop.set)
    stop.wait()
