"""Build the HNSW index of one Edge shard folder, in a process of its own.

``EdgeShard.optimize()`` holds the GIL for its whole (long) run, so the serving process runs this
file as a child on a folder nobody else has open and waits without blocking its event loop.
Run as a script (``python edge_optimize.py SHARD_DIR``) so that it imports nothing but qdrant_edge;
prints one JSON line with what it did.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: edge_optimize.py SHARD_DIR\n")
        return 2
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
