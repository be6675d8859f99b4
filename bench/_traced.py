"""Run a module as ``__main__`` with tracemalloc on; each SIGUSR1 writes a snapshot. Bench only.

``python -m bench._traced mayday.cli server --port 8080`` with ``BENCH_SNAPSHOT_PREFIX=/tmp/snap``
writes ``/tmp/snap.0``, ``/tmp/snap.1``, … (after a full garbage collection), which
:mod:`bench._connections_report` compares. ``BENCH_TRACE_FRAMES`` (default 16) is how many frames each
allocation keeps. The server itself knows nothing of this.
"""

from __future__ import annotations

import gc
import os
import runpy
import signal
import sys
import tracemalloc
from types import FrameType


def main() -> None:
    prefix = os.environ["BENCH_SNAPSHOT_PREFIX"]
    tracemalloc.start(int(os.environ.get("BENCH_TRACE_FRAMES", "16")))
    taken = 0

    def dump(_signum: int, _frame: FrameType | None) -> None:
        nonlocal taken
        gc.collect()
        path = f"{prefix}.{taken}"
        tracemalloc.take_snapshot().dump(path + ".tmp")
        os.replace(path + ".tmp", path)
        taken += 1

    signal.signal(signal.SIGUSR1, dump)
    module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
