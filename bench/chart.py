"""The bench's PNG chart: throughput and latency of each run at a glance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.report import _cell

__all__ = ["write_chart"]


def write_chart(results: dict[str, Any], path: Path) -> None:
    """Four panels: ingest, projector against its yardsticks, freshness, growth."""
    figure, axes = plt.subplots(2, 2, figsize=(14, 9))
    ingest, projector, freshness, growth = axes.flat

    cells = results.get("ingest") or []
    batches = sorted({c["events_per_request"] for c in cells})
    clients = sorted({c["clients"] for c in cells})
    width = 0.8 / max(1, len(clients))
    for n, count in enumerate(clients):
        row = [_cell(results, b, count) for b in batches]
        rates = [c["events_per_second"] if c else 0 for c in row]
        bars = ingest.bar([i + n * width for i in range(len(batches))], rates, width)
        for bar, c in zip(bars, row, strict=True):
            if c:
                ingest.annotate(
                    f"p99 {c['p99_ms']:.0f}ms",
                    (bar.get_x() + width / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    rotation=90,
                )
        bars.set_label(f"{count} clients")
    ingest.set_xticks([i + width * (len(clients) - 1) / 2 for i in range(len(batches))])
    ingest.set_xticklabels([f"{b} events/request" for b in batches])
    ingest.set_ylabel("events/s")
    ingest.set_title("Gateway ingest")
    if cells:
        ingest.legend()

    projection = results.get("projection")
    if projection:
        names = ["projector"]
        rates = [projection["projector"]["events_per_second"]]
        if projection.get("two_projectors"):
            names.append("2 projectors")
            rates.append(projection["two_projectors"]["events_per_second"])
        for u in (results.get("growth") or {}).get("users", []):
            names.append(f"{u['users']:,} users")
            rates.append(u["events_per_second"])
        names += ["raw database", "naive"]
        rates += [
            projection["raw_database"]["events_per_second"],
            projection["naive"]["events_per_second"],
        ]
        colors = ["tab:blue"] * (len(names) - 2) + ["tab:green", "tab:red"]
        projector.barh(names, rates, color=colors)
        projector.axvline(
            0.7 * projection["raw_limit_events_per_second"], ls="--", c="k", label="70 % of raw"
        )
        projector.set_xlabel("events/s")
        projector.set_title("Projector against the raw limit and the naive design")
        projector.legend()

    traffics = results.get("freshness") or []
    if traffics:
        names = [t["name"] for t in traffics]
        freshness.bar(
            [i - 0.2 for i in range(len(names))],
            [t["freshness_p50_ms"] for t in traffics],
            0.4,
            label="p50",
        )
        freshness.bar(
            [i + 0.2 for i in range(len(names))],
            [t["freshness_p99_ms"] for t in traffics],
            0.4,
            label="p99",
        )
        freshness.axhline(250, ls="--", c="k", label="250 ms goal (steady)")
        freshness.axhline(1000, ls=":", c="k", label="1 s goal (heartbeat)")
        freshness.set_xticks(range(len(names)))
        freshness.set_xticklabels(
            [
                f"{t['name']}\n{t['target_events_per_second']:.0f} events/s, "
                f"{t['write_commands_per_event']:.3f} writes/event"
                for t in traffics
            ]
        )
        freshness.set_ylabel("ms from 202 to snapshot")
        freshness.set_title("Freshness")
        freshness.legend()

    replays = (results.get("growth") or {}).get("replays", [])
    if replays:
        for kind in ("recent", "first"):
            rows = [r for r in replays if r.get("kind", "first") == kind]
            growth.plot(
                [r["events_per_user"] for r in rows],
                [r["replay_ms"] for r in rows],
                "o-",
                label=kind,
            )
        growth.legend()
        growth.set_xscale("log")
        growth.set_yscale("log")
        growth.set_xlabel("events in the user's log")
        growth.set_ylabel("ms per replay")
        growth.set_title("Late-event replay cost")

    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
