"""Build the HNSW index of one Edge shard folder, in a process of its own.

``EdgeShard.optimize()`` holds the GIL for its whole (long) run, so the serving process runs this
file as a child on a folder nobody else has open and waits without blocking its event loop.
Run as a script (``python edge_optimize.py SHARD_DIR [PARENT_PID]``) so that it imports nothing but
qdrant_edge; prints one JSON line with what it did.

The child must not outlive the process that started it: an orphan keeps the shard's WAL locked and
the next sync finds the index "in use". ``die_with_parent`` asks the Linux kernel to SIGKILL it
when its parent dies (``PR_SET_PDEATHSIG``). A watcher thread, a parent-pid poll or a pipe read
would not do: ``optimize()`` holds the GIL for its whole run, so no Python code of the child runs
until it ends; a kernel-sent SIGKILL needs none.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> bool:
    """Have the kernel SIGKILL this process when ``parent`` dies; False where that cannot be asked
    (not Linux). Exits at once when the parent already died before the request took effect."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # orphaned already (re-parented to init or a subreaper)
        sys.stderr.write(f"the process that started this index build ({parent}) is gone\n")
        sys.exit(1)
    return armed


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: edge_optimize.py SHARD_DIR [PARENT_PID]\n")
        return 2
    if len(argv) == 3:
        die_with_parent(int(argv[2]))
    from qdrant_edge import EdgeShard

    started = time.perf_counter()
    try:
        shard = EdgeShard.load(argv[1])
    except Exception as exc:
        sys.stderr.write(f"cannot open {argv[1]}: {exc}\n")
        return 1
    try:
        loaded = time.perf_counter()
        changed = shard.optimize()
        optimized = time.perf_counter()
        shard.flush()
        info = shard.info()
        report = {
            "changed": changed,
            "points": info.points_count,
            "indexed_vectors": info.indexed_vectors_count,
            "segments": info.segments_count,
            "load_seconds": round(loaded - started, 3),
            "optimize_seconds": round(optimized - loaded, 3),
        }
    except Exception as exc:
        sys.stderr.write(f"optimizing {argv[1]} failed: {exc}\n")
        return 1
    finally:
        shard.close()
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
