"""Kafka SASL/SCRAM and TLS: settings refused when incomplete, and every client built with them.

A production cluster (docker-compose.yml, deploy/k8s) only accepts SASL_SSL: a client built
anywhere without the security settings would fail to connect, or connect in clear text.
"""

from __future__ import annotations

import ast
import base64
import ssl
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import ValidationError

from services.progressctl.common import load_settings
from shared.adapters.kafka import kafka_broker, kafka_client_options
from shared.adapters.settings import Settings
from tests.support.xapi_signing import signer

REPO = Path(__file__).resolve().parents[2]
AIOKAFKA_CLIENTS = {"AIOKafkaAdminClient", "AIOKafkaConsumer", "AIOKafkaProducer"}


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    _, der = signer("progress-sync test CA")
    path = tmp_path / "ca.pem"
    path.write_text(ssl.DER_cert_to_PEM_cert(base64.b64decode(der)))
    return path


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def _scram(ca_file: Path) -> Settings:
    return _settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="progress",
        kafka_sasl_password="s3cret-password",
        kafka_ssl_cafile=str(ca_file),
    )


def _assert_scram_over_tls(options: dict[str, Any]) -> None:
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "progress"
    assert options["sasl_plain_password"] == "s3cret-password"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.cert_store_stats()["x509"] == 1, "the CA file was not loaded (alone)"


def test_plaintext_is_the_default_and_adds_no_security_options() -> None:
    options = kafka_client_options(_settings(kafka_bootstrap="a:9092, b:9092"))
    assert options == {"bootstrap_servers": ["a:9092", "b:9092"], "request_timeout_ms": 5000}


def test_bare_clients_get_scram_over_tls(ca_file: Path) -> None:
    _assert_scram_over_tls(kafka_client_options(_scram(ca_file)))


def test_faststream_producer_and_consumers_get_scram_over_tls(ca_file: Path) -> None:
    broker = kafka_broker(_scram(ca_file), client_id="test", consumer=True)
    _assert_scram_over_tls(broker._connection_kwargs)
    _assert_scram_over_tls(broker.config.broker_config.builder.keywords)


def test_tls_without_sasl_uses_the_system_cas_when_no_ca_file_is_named() -> None:
    options = kafka_client_options(_settings(kafka_security_protocol="SSL"))
    assert options["security_protocol"] == "SSL"
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    assert "sasl_mechanism" not in options


def test_sasl_without_tls_sends_no_tls_context() -> None:
    options = kafka_client_options(
        _settings(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_mechanism="SCRAM-SHA-256",
            kafka_sasl_username="u",
            kafka_sasl_password="p",
        )
    )
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert options["ssl_context"] is None


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"kafka_sasl_password": "p"}, "PROGRESS_KAFKA_SASL_USERNAME"),
        ({"kafka_sasl_username": "u"}, "PROGRESS_KAFKA_SASL_PASSWORD"),
    ],
)
def test_sasl_without_credentials_is_refused_naming_the_setting(
    values: dict[str, str], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        _settings(kafka_security_protocol="SASL_SSL", **values)


def test_progressctl_says_which_setting_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROGRESS_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("PROGRESS_KAFKA_SASL_PASSWORD", "p")
    monkeypatch.delenv("PROGRESS_KAFKA_SASL_USERNAME", raising=False)
    with pytest.raises(typer.Exit):
        load_settings()
    assert capsys.readouterr().err == (
        "error: PROGRESS_KAFKA_SASL_USERNAME is required when "
        "PROGRESS_KAFKA_SECURITY_PROTOCOL is SASL_SSL\n"
    )


def test_a_missing_ca_file_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="kafka_ssl_cafile"):
        _settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(tmp_path / "absent.pem"))


def test_an_unknown_protocol_or_mechanism_is_refused() -> None:
    with pytest.raises(ValidationError, match="kafka_security_protocol"):
        _settings(kafka_security_protocol="SSL_SASL")
    with pytest.raises(ValidationError, match="kafka_sasl_mechanism"):
        _settings(kafka_sasl_mechanism="GSSAPI")


def _client_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for folder in ("shared", "services", "chaos"):
        for path in sorted((REPO / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if "AIOKafka" not in text:
                continue
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                    if name in AIOKAFKA_CLIENTS:
                        calls.append((f"{path.relative_to(REPO)}:{node.lineno}", node))
    return calls


def test_every_bare_kafka_client_starts_from_the_shared_options() -> None:
    """One place decides how a client connects: a client built from loose arguments would not."""
    calls = _client_calls()
    assert calls, "no aiokafka client found: the scan is broken"
    loose = [
        where
        for where, call in calls
        if not any(keyword.arg is None for keyword in call.keywords)
        or any(keyword.arg == "bootstrap_servers" for keyword in call.keywords)
    ]
    assert not loose, f"aiokafka clients built without kafka_client_options: {loose}"
