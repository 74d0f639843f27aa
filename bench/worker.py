"""``python -m bench.worker``: hub workers in a process of their own, as ``pivot worker`` runs them.

The same code path as ``pivot worker`` (``Hub.loops``, ``Hub.pollers``, the ingestion spool,
SIGTERM finishing the batch), with what a benchmark needs besides:

* ``--stage translate|deliver`` keeps only one stage's consumer loops (``pivot worker`` runs
  both stages of every connector it is given);
* ``--poll on-go`` starts the pollers only when the parent writes ``go`` on stdin, so the
  backfill is timed from the first page read, not from the process start;
* ``--start on-go`` loads everything, then waits for ``go`` before its loops join their groups
  (a worker added to a running group, ready to go);
* it announces ``ready`` on stdout once every loop has its partitions (group joined).

Configuration comes from the environment like every ``pivot`` command (``PIVOT_KAFKA_BOOTSTRAP``,
``PIVOT_DATABASE_URL``, ``PIVOT_CONNECTOR_<NAME>_BASE_URL``...).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time

from bench.processes import announce, wait_for_stdin_line, when_parent_goes
from observability.tracing import configure_tracing
from pivot import runtime
from pivot.bus.consumer import ConsumerLoop, stop_on_signals, wait_all_assigned
from pivot.hub import Hub
from pivot.settings import PivotSettings

STAGES = ("translate", "deliver")


def stage_of(loop: ConsumerLoop) -> str:
    """``translate`` or ``deliver``, from the loop's group (``pivot.<stage>.<connector>``)."""
    return loop.group.split(".")[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker", description=__doc__)
    parser.add_argument("-c", "--connector", action="append", required=True)
    parser.add_argument("--stage", choices=("all", *STAGES), default="all")
    parser.add_argument("--poll", choices=("off", "now", "on-go"), default="off",
                        help="Run the pollers of polled satellites: never, at once, on 'go'.")
    parser.add_argument("--start", choices=("now", "on-go"), default="now",
                        help="Start the loops at once, or when the parent writes 'go' (the "
                             "process is loaded and its hub prepared meanwhile).")
    parser.add_argument("--ready-timeout", type=float, default=90.0)
    args = parser.parse_args(argv)
    settings = PivotSettings()
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)
    if not settings.kafka.bootstrap:
        announce("error", message="PIVOT_KAFKA_BOOTSTRAP is not set")
        return 2
    configure_tracing("pivot-worker")
    hub = Hub(settings, settings.kafka.bootstrap)
    hub.prepare()
    loops = [loop for loop in hub.loops(args.connector)
             if args.stage == "all" or stage_of(loop) == args.stage]
    pollers = hub.pollers(args.connector) if args.poll != "off" else []
    runtime.settle(settings.worker.switch_interval_ms)
    if args.start == "on-go":
        announce("loaded", pid=os.getpid())
        if wait_for_stdin_line() != "go":
            hub.close()
            return 0
    stop_on_signals(*loops)
    threads = [threading.Thread(target=loop.run, name=loop.group) for loop in loops]
    for thread in threads:
        thread.start()
    if pollers:
        hub.ingestion.start()
    if not wait_all_assigned(loops, args.ready_timeout):
        announce("error", message=f"loops not assigned in {args.ready_timeout:.0f} s")
        for loop in loops:
            loop.stop()
        for thread in threads:
            thread.join(30)
        hub.close()
        return 1
    announce("ready", pid=os.getpid(), loops=[loop.group for loop in loops],
             pollers=[p.connector.name for p in pollers])
    if pollers and args.poll == "on-go" and wait_for_stdin_line() != "go":
        pollers = []  # the parent went away before saying go
    for poller in pollers:
        poller.start()
    if pollers:
        announce("polling", at=time.time())

    def stop_loops() -> None:
        for loop in loops:
            loop.stop()

    when_parent_goes(stop_loops)
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    for poller in pollers:
        poller.stop()
    hub.close()
    announce("stopped", records=sum(loop.records for loop in loops))
    return 0


if __name__ == "__main__":
    sys.exit(main())
