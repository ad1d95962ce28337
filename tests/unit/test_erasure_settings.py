"""The erasure secret's settings: the key ring, and the public default refused in production."""

from __future__ import annotations

import pytest

from shared.adapters.settings import DEVELOPMENT_ERASURE_SECRET, Settings


@pytest.fixture(autouse=True)
def clean_progress_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("PROGRESS_ENVIRONMENT", "PROGRESS_ERASURE_SECRET"):
        monkeypatch.delenv(variable, raising=False)


def test_the_ring_is_the_current_secret_as_given_then_the_previous_ones_trimmed() -> None:
    settings = Settings(erasure_secret=" now ", erasure_secrets_previous=" old, ,older")  # type: ignore[arg-type]
    assert settings.erasure_secrets == (b" now ", b"old", b"older")


def test_only_development_runs_on_the_public_default_secret() -> None:
    problem = Settings().production_problem()
    assert problem is not None
    assert "PROGRESS_ERASURE_SECRET" in problem
    assert Settings(environment="development").production_problem() is None
    own = Settings(erasure_secret="an-own-secret-0123456789abcdef")  # type: ignore[arg-type]
    assert own.production_problem() is None
    assert Settings().erasure_secret.get_secret_value() == DEVELOPMENT_ERASURE_SECRET
