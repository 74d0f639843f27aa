"""Process-wide tuning of a long-running hub process, applied by its entry point once started.

Library code (the hub, the API factory, the test stack) never calls this: it changes the whole
interpreter, which in a test run or an embedding application is not the hub's to change.
"""

from __future__ import annotations

import gc
import sys


def settle(switch_interval_ms: float | None = None) -> None:
    """Tune the process once its start-up is done (connectors loaded, loops and app built).

    * The objects alive now (modules, schemas, compiled statements, the app) are moved out of
      the garbage collector's reach (``gc.freeze``): they live as long as the process, and a
      full collection that walked them paused every thread for 50–150 ms under load.
    * ``switch_interval_ms`` sets the interpreter's thread switch interval (a worker's
      ``PIVOT_WORKER_SWITCH_INTERVAL_MS``): its threads wait on the broker, the store and the
      satellites between short bursts of Python, and a shorter interval lets the thread whose
      answer came back run sooner.
    """
    if switch_interval_ms is not None:
        sys.setswitchinterval(switch_interval_ms / 1000)
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
