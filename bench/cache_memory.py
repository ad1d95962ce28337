"""What the projector's snapshot cache costs in memory against its budget.

`python -m bench.cache_memory [--mib 16]` fills a `CachedSnapshots` past its budget with
realistic learner snapshots (about 3 KB stored each) written as the projector writes them,
in batches it then drops, and prints this process's RSS growth and the Python heap that
tracemalloc sees still held, each against the budget. A second fill under tracemalloc
starts from an emptied cache, so its figure is the cache's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import tracemalloc

from bench.memory import rss_mib
from shared.adapters.snapshot_cache import CachedSnapshots
from tests.support.cache_fill import ForgetfulSnapshotStore, fill
from tests.support.projector import learner_snapshots

__all__ = ["measure"]

_MIB = 2**20


def measure(budget_mib: int) -> dict[str, float]:
    """RSS growth and tracemalloc's held heap (MiB) after filling a cache of `budget_mib`.

    Fills with twice the snapshots that fit the budget by their stored size, so that the
    cache is full and evicting.
    """
    count = 2 * budget_mib * _MIB // len(learner_snapshots(1)[0].to_storage())
    gc.collect()
    before = rss_mib(os.getpid())
    cache = CachedSnapshots(ForgetfulSnapshotStore(), budget_mib * _MIB)
    asyncio.run(fill(cache, count, 0))
    gc.collect()
    rss_growth = rss_mib(os.getpid()) - before
    del cache
    gc.collect()
    tracemalloc.start()
    cache = CachedSnapshots(ForgetfulSnapshotStore(), budget_mib * _MIB)
    asyncio.run(fill(cache, count, count))
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] / _MIB
    tracemalloc.stop()
    return {
        "budget_mib": budget_mib,
        "snapshots_written": count,
        "rss_growth_mib": round(rss_growth, 1),
        "rss_growth_per_budget": round(rss_growth / budget_mib, 2),
        "tracemalloc_held_mib": round(held, 1),
        "tracemalloc_held_per_budget": round(held / budget_mib, 2),
    }


def main() -> None:
    """Print `measure` for `--mib` as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=16, help="the cache budget (default 16)")
    print(json.dumps(measure(parser.parse_args().mib), indent=2))


if __name__ == "__main__":
    main()
