"""Whether a Docker engine answers: the real backend's containers need one.

`python -m tests.support.docker_engine` exits 0 when one answers; else it prints why and
exits 1 (`make test-real` then skips the suite, saying so).
"""

from __future__ import annotations

import sys


def docker_engine_problem() -> str | None:
    """Why no Docker engine can run the containers (None: one answers)."""
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception as error:
        return f"no Docker engine answers ({type(error).__name__}: {error})"
    return None


if __name__ == "__main__":
    problem = docker_engine_problem()
    if problem:
        print(problem)
        sys.exit(1)
