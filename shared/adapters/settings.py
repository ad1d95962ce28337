"""Every setting of every Progress Sync process, read from `PROGRESS_*` environment variables."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.domain import Quotas
from shared.domain.tenants import valid_signing_secret
from shared.domain.wire import MAX_EVENTS_PER_REQUEST
from shared.service_layer.xapi.quotas import XapiQuotas

__all__ = ["DEVELOPMENT_ERASURE_SECRET", "Settings"]

DEVELOPMENT_ERASURE_SECRET = "dev-erasure-secret-change-me-0123456789"  # noqa: S105 (public on purpose)
"""The erasure secret everyone can read here: only `PROGRESS_ENVIRONMENT=development` runs on it."""


class Settings(BaseSettings):
    """Configuration shared by the gateway, projector, retry worker and `progressctl`.

    Each field is the environment variable `PROGRESS_<FIELD NAME IN CAPITALS>`; the README's
    settings table lists them all. Nothing here connects to anything.
    """

    model_config = SettingsConfigDict(
        env_prefix="PROGRESS_", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_idempotent: bool = True
    kafka_request_timeout_ms: int = Field(default=5000, ge=500)
    kafka_linger_ms: int = Field(default=5, ge=0)
    kafka_partitions: int = Field(default=6, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: str = ""
    kafka_min_insync_replicas: int = Field(default=1, ge=1)

    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_database: str = "progress"
    mongo_timeout_ms: int = Field(default=5000, ge=100)
    log_hole_seconds: float = Field(default=10.0, gt=0, le=3600)

    http_host: str = "127.0.0.1"
    gateway_port: int = Field(default=8080, ge=0, le=65535)
    projector_port: int = Field(default=8081, ge=0, le=65535)
    retry_worker_port: int = Field(default=8082, ge=0, le=65535)
    prometheus_port: int = Field(default=9090, ge=0, le=65535)
    demo_port: int = Field(default=8083, ge=0, le=65535)
    insights_port: int = Field(default=8084, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)

    rate_limit_events_per_second: float = Field(default=2000.0, gt=0)
    rate_limit_burst: int = Field(default=10000, ge=1)
    rate_limit_user_events_per_second: float = Field(default=100.0, gt=0)
    rate_limit_user_burst: int = Field(default=2000, ge=1)
    rate_limit_unauthenticated_per_second: float = Field(default=5.0, gt=0)
    rate_limit_unauthenticated_burst: int = Field(default=50, ge=1)
    cors_origins: str = ""
    trusted_proxies: str = ""
    auth_cache_seconds: float = Field(default=10.0, ge=0)
    user_token_max_lifetime_seconds: int = Field(default=86_400, ge=60)
    user_token_clock_skew_seconds: int = Field(default=30, ge=0, le=300)
    jwks_fetch_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    jwks_max_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    jwks_cache_seconds: int = Field(default=900, ge=1, le=86_400)
    jwks_refresh_interval_seconds: float = Field(default=60.0, ge=0)
    jwks_allow_loopback_http: bool = False

    http_max_connections: int = Field(default=1000, ge=16)
    http_max_in_flight: int = Field(default=256, ge=1)
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    http_keep_alive_seconds: int = Field(default=5, ge=1)
    max_events_per_request: int = Field(
        default=MAX_EVENTS_PER_REQUEST, ge=1, le=MAX_EVENTS_PER_REQUEST
    )
    wait_max_per_user: int = Field(default=4, ge=1)
    wait_max_per_process: int = Field(default=64, ge=1)
    consistency_token_ttl_seconds: float = Field(default=3600.0, gt=0)
    stream_max_per_user: int = Field(default=5, ge=1)
    stream_max_per_process: int = Field(default=10_000, ge=1)
    stream_keep_alive_seconds: float = Field(default=15.0, gt=0, le=15.0)
    stream_reread_seconds: float = Field(default=5.0, gt=0)
    stream_lifetime_seconds: float = Field(default=3600.0, gt=0, le=3600.0)
    stream_send_timeout_seconds: float = Field(default=10.0, gt=0)

    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    consumer_heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    consumer_max_poll_interval_ms: int = Field(default=300_000, ge=180_000)
    consumer_stall_seconds: float = Field(default=120.0, gt=0)

    projector_group: str = "progress-projector"
    projector_batch_max: int = Field(default=500, ge=1)
    projector_batch_timeout_ms: int = Field(default=50, ge=0)
    projector_snapshot_cache_mib: int = Field(default=16, ge=0)
    projector_replay_memory_entries: int = Field(default=20_000, ge=0)
    catalog_job_poll_ms: int = Field(default=1000, ge=10)
    catalog_job_lease_seconds: float = Field(default=60.0, gt=0)
    catalog_job_page: int = Field(default=500, ge=1, le=10_000)

    insights_group: str = "progress-insights"
    insights_batch_max: int = Field(default=500, ge=1)
    insights_batch_timeout_ms: int = Field(default=50, ge=0)
    insights_metric_courses: int = Field(default=20, ge=0, le=1000)
    insights_metric_refresh_seconds: float = Field(default=30.0, gt=0)

    bootstrap_tenant: str = "demo"
    bootstrap_api_key: SecretStr = SecretStr("demo-api-key-change-me")
    bootstrap_signing_secret: SecretStr = SecretStr("demo-signing-secret-change-me-please")

    quota_max_items: int = Field(default=10_000, ge=1, le=10_000)
    quota_max_interactions: int = Field(default=100, ge=1, le=100)
    quota_max_snapshot_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=4 * 1024 * 1024)

    xapi_quota_statements: int = Field(default=100_000, ge=1)
    xapi_quota_documents: int = Field(default=1_000, ge=1)
    xapi_quota_attachment_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    xapi_page_attachment_bytes: int = Field(default=16 * 1024 * 1024, ge=1)

    environment: Literal["production", "development"] = "production"
    erasure_secret: SecretStr = SecretStr(DEVELOPMENT_ERASURE_SECRET)
    erasure_secrets_previous: SecretStr = SecretStr("")
    erasure_sweep_margin_seconds: float = Field(default=5.0, ge=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    data_dir: Path = Path("var")

    @field_validator("bootstrap_signing_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        """Refuse a short bootstrap signing secret at start-up (the error names the field)."""
        valid_signing_secret(secret.get_secret_value())
        return secret

    @field_validator("kafka_ssl_cafile")
    @classmethod
    def _readable_file(cls, path: str) -> str:
        """Refuse at start-up a CA file that is not there (empty: the system's CAs)."""
        if path and not Path(path).is_file():
            raise ValueError(f"no such file: {path}")
        return path

    @model_validator(mode="after")
    def _sasl_credentials(self) -> Settings:
        """Refuse at start-up a SASL protocol without its user name or password (named)."""
        if self.kafka_security_protocol.startswith("SASL_"):
            for field in ("kafka_sasl_username", "kafka_sasl_password"):
                value = getattr(self, field)
                if not (value.get_secret_value() if isinstance(value, SecretStr) else value):
                    raise ValueError(
                        f"PROGRESS_{field.upper()} is required when PROGRESS_KAFKA_SECURITY_"
                        f"PROTOCOL is {self.kafka_security_protocol}"
                    )
        return self

    @property
    def erasure_secrets(self) -> tuple[bytes, ...]:
        """The erasure secret, then the previous ones (comma-separated), as HMAC keys.

        Tombstones and consistency tokens made under any of them are still honoured, so
        changing the secret never un-erases anyone. The current secret is used exactly as
        given (as it always was); the previous ones are trimmed.
        """
        previous = self.erasure_secrets_previous.get_secret_value().split(",")
        trimmed = [secret.strip() for secret in previous if secret.strip()]
        return tuple(s.encode() for s in [self.erasure_secret.get_secret_value(), *trimmed])

    def production_problem(self) -> str | None:
        """Why these settings must not run a service outside development, or None.

        The default erasure secret is public: tombstones keyed by it can be tied back to user
        ids by anyone, and consistency tokens forged.
        """
        if self.environment == "production" and (
            self.erasure_secret.get_secret_value() == DEVELOPMENT_ERASURE_SECRET
        ):
            return (
                "PROGRESS_ERASURE_SECRET is the public development default; set a secret of "
                "your own (or PROGRESS_ENVIRONMENT=development on a laptop)"
            )
        return None

    @property
    def log_hole_bound(self) -> timedelta:
        """How long an empty log position may hold the visible head back (then a read fills it)."""
        return timedelta(seconds=self.log_hole_seconds)

    @property
    def quotas(self) -> Quotas:
        """The per-user quotas these settings name."""
        return Quotas(
            max_items=self.quota_max_items,
            max_interactions=self.quota_max_interactions,
            max_snapshot_bytes=self.quota_max_snapshot_bytes,
        )

    @model_validator(mode="after")
    def _insync_fits_the_replicas(self) -> Settings:
        """Refuse at start more in-sync replicas than replicas (every write would fail)."""
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise ValueError(
                "PROGRESS_KAFKA_MIN_INSYNC_REPLICAS must be at most "
                "PROGRESS_KAFKA_REPLICATION_FACTOR"
            )
        return self

    @model_validator(mode="after")
    def _heartbeats_fit_the_session(self) -> Settings:
        """Refuse at start a heartbeat that cannot keep the group session alive."""
        if self.consumer_heartbeat_interval_ms * 3 > self.consumer_session_timeout_ms:
            raise ValueError(
                "PROGRESS_CONSUMER_HEARTBEAT_INTERVAL_MS must be at most a third of "
                "PROGRESS_CONSUMER_SESSION_TIMEOUT_MS (a session outlives two lost heartbeats)"
            )
        return self

    @field_validator("mongo_url")
    @classmethod
    def _reads_from_primary(cls, url: str) -> str:
        """Refuse at start a URL that would read from secondaries (the error names the option).

        `waitFor`, pages and streams promise that a read sees the write it waited for; a
        secondary may not have it yet, so such a URL would silently break
        `Progress-Consistent`. Only the URL's own options are read (no DNS, no connection).
        """
        for name, value in parse_qsl(url.partition("?")[2]):
            if name.lower() == "readpreference" and value.lower() != "primary":
                raise ValueError(
                    f"PROGRESS_MONGO_URL sets readPreference={value}: Progress Sync reads "
                    "from the primary only (read-your-writes), so remove the option or set "
                    "readPreference=primary"
                )
        return url

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: str) -> str:
        """Refuse at start-up an entry that is not an IP address or CIDR network."""
        for entry in _listed(proxies):
            ipaddress.ip_network(entry, strict=False)
        return proxies

    @property
    def trusted_proxy_list(self) -> list[str]:
        """Networks whose `X-Forwarded-For` names the client (empty: the peer is the client)."""
        return _listed(self.trusted_proxies)

    @property
    def xapi_quotas(self) -> XapiQuotas:
        """The per-learner xAPI bounds these settings name."""
        return XapiQuotas(
            statements=self.xapi_quota_statements,
            documents=self.xapi_quota_documents,
            attachment_bytes=self.xapi_quota_attachment_bytes,
            page_attachment_bytes=self.xapi_page_attachment_bytes,
        )

    @property
    def cors_origin_list(self) -> list[str]:
        """The browser origins allowed to call the API (empty: CORS off)."""
        return _listed(self.cors_origins)

    @property
    def kafka_servers(self) -> list[str]:
        """The bootstrap servers as a list, for clients that want one."""
        return [server.strip() for server in self.kafka_bootstrap.split(",") if server.strip()]


def _listed(text: str) -> list[str]:
    """The non-empty entries of a comma-separated setting."""
    return [entry.strip() for entry in text.split(",") if entry.strip()]
