"""`make bench BASELINE=<commit>`: the same sections, in the same run, on another commit.

The commit is checked out as a detached git worktree in the temporary directory
(`progress-bench-baseline-<sha>`, kept for the next run; `git worktree remove` it when done).
Its Python environment is this one when its `requirements.lock` is identical (its own code
comes first on the path, the services it starts run from its tree), else the one its own
Makefile builds (`make .venv/.installed` there). Its own `python -m bench` then runs the
sections both commits know, with the same options, writing its results file in a temporary
directory; `compare.side_by_side` prints each figure beside the baseline's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["REPOSITORY", "baseline_argv", "known_options", "measure", "python_for", "worktree"]

REPOSITORY = Path(__file__).resolve().parent.parent


def _git(*argv: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPOSITORY), *argv], check=True, capture_output=True, text=True
    ).stdout.strip()


def worktree(commit: str) -> tuple[Path, str]:
    """A detached worktree of `commit` (reused when already there) and its full hash."""
    sha = _git("rev-parse", "--verify", f"{commit}^{{commit}}")
    tree = Path(tempfile.gettempdir()) / f"progress-bench-baseline-{sha[:12]}"
    if not (tree / ".git").exists():
        _git("worktree", "prune")
        _git("worktree", "add", "--detach", str(tree), sha)
    return tree, sha


_SDK_STAMP = ".venv/.sdk-installed"
"""The Makefile target that installs the Python SDK the bench's `sdk_client` section imports."""


def python_for(tree: Path) -> Path:
    """The Python that runs the baseline: this one if the locks match, else its own venv.

    Its own is built by its own Makefile: the locked dependencies, and the Python SDK's
    wheel when that Makefile has the target.
    """
    if (tree / "requirements.lock").read_bytes() == (REPOSITORY / "requirements.lock").read_bytes():
        return Path(sys.executable)
    targets = [".venv/.installed"]
    if _SDK_STAMP in (tree / "Makefile").read_text():
        targets.append(_SDK_STAMP)
    subprocess.run(["make", "-C", str(tree), *targets], check=True, stdout=sys.stderr)
    return tree / ".venv" / "bin" / "python"


def known_options(help_text: str) -> tuple[set[str], set[str]]:
    """The options and the `--only` sections a commit's `python -m bench --help` lists."""
    choices = re.search(r"--only \{([^}]*)\}", help_text)
    sections = set(choices.group(1).split(",")) if choices else set()
    return set(re.findall(r"(--[a-z][a-z-]*)", help_text)), sections


def _options(
    tree: Path, python: Path, env: dict[str, str], options: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """The command-line options the baseline understands, and the sections it does not know."""
    shown = subprocess.run(
        [str(python), "-m", "bench", "--help"],
        cwd=tree,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if shown.returncode:
        last = (shown.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the baseline's `python -m bench --help` failed: {last}")
    return baseline_argv(shown.stdout, options)


def baseline_argv(help_text: str, options: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The baseline's command line for `options`, from its `--help`; and its unknown sections.

    An option its bench does not list is left out: an old bench (before `--runs`) refuses
    an unknown option and measures nothing, so it runs once instead.
    """
    flags, sections = known_options(help_text)
    argv = ["--runs", str(options["runs"])] if "--runs" in flags else []
    if options["full"]:
        argv.append("--full")
    if "--live-rate" in flags:
        argv += ["--live-rate", str(options["live_rate"])]
    only: Sequence[str] = options["only"]
    argv += ["--only", *(s for s in only if s in sections)]
    return argv, [s for s in only if s not in sections]


def measure(commit: str, options: dict[str, Any]) -> dict[str, Any]:
    """Run the baseline's bench with `options` (runs, full, live_rate, only): its results.

    Its progress and its own table go to stderr. Raises `RuntimeError` when its run ends
    without a results file (an old bench stops at its first failing section).
    """
    tree, sha = worktree(commit)
    python = python_for(tree)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv, unknown = _options(tree, python, env, options)
    print(f"  .. baseline {commit} ({sha[:12]}) in {tree}: bench {' '.join(argv)}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [str(python), "-m", "bench", *argv, "--out", out],
            cwd=tree,
            env=env,
            stdout=sys.stderr,
            check=False,
        )
        written = sorted(Path(out).glob("*.json"))
        if not written:
            raise RuntimeError(f"the baseline's bench exited {done.returncode} with no results")
        results = json.loads(written[-1].read_text())
    return {
        "commit": sha,
        "asked": commit,
        "unknown_sections": unknown,
        "one_run": "--runs" not in argv,
        "results": results,
    }
