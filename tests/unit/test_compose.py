"""Static checks of the production deployment (docker-compose.yml, deploy/).

No Docker engine is needed: the compose file, the Dockerfile and the Prometheus configuration
are read as text and checked against the code they deploy (the `Settings` fields, the
`python -m` modules, each service's HTTP port).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from shared.adapters.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
PROMETHEUS_CONFIG_IN_CONTAINER = "/etc/prometheus/prometheus.yml"

# The long-running Progress Sync processes, by module, and the Settings field of each one's
# HTTP port (health; /metrics has its own port, `metrics_port`).
PORT_FIELD_BY_MODULE = {
    "services.gateway": "gateway_port",
    "services.projector": "projector_port",
    "services.retry_worker": "retry_worker_port",
    "services.insights": "insights_port",
}
# Consumers scale out by consumer group: `docker compose up --scale <service>=N`.
SCALABLE_MODULES = ("services.projector", "services.retry_worker", "services.insights")
RESTART_POLICIES = {"always", "unless-stopped", "on-failure"}
DEPENDS_ON_CONDITIONS = {
    "service_started",
    "service_healthy",
    "service_completed_successfully",
}

PYTHON_M = re.compile(r"(?:^|[\s;&|(])python3?(?:\.\d+)?\s+-m\s+([A-Za-z_][\w.]*)")
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}
INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?+])([^}]*))?\}")
SETTINGS_VARIABLES = {f"PROGRESS_{name.upper()}": name for name in Settings.model_fields}


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


COMPOSE: dict[str, Any] = _load_yaml(COMPOSE_FILE)
SERVICES: dict[str, dict[str, Any]] = COMPOSE.get("services") or {}


# --- helpers ---------------------------------------------------------------------------


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment:` as a dict, whichever of the two compose forms it uses."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in raw)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in raw.items()}


def _resolve(value: str) -> str | None:
    """The value compose would pass, using `${VAR:-default}` defaults; None if it needs input."""
    unresolved = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unresolved
        operator, argument = match.group(2), match.group(3)
        if operator in (":-", "-"):
            return argument
        unresolved = True
        return ""

    resolved = INTERPOLATION.sub(substitute, value)
    return None if unresolved else resolved


def _command_text(service: dict[str, Any]) -> str:
    command = service.get("command") or ""
    return " ".join(str(part) for part in command) if isinstance(command, list) else str(command)


def _python_modules(service: dict[str, Any]) -> list[str]:
    return PYTHON_M.findall(_command_text(service))


def _app_services() -> dict[str, str]:
    """Compose service name -> module, for the long-running Progress Sync processes."""
    found: dict[str, str] = {}
    for name, service in SERVICES.items():
        for module in _python_modules(service):
            if module in PORT_FIELD_BY_MODULE:
                found[name] = module
    return found


APP_SERVICES = _app_services()


def _settings_kwargs(service: dict[str, Any]) -> dict[str, str]:
    kwargs: dict[str, str] = {}
    for variable, value in _environment(service).items():
        field = SETTINGS_VARIABLES.get(variable)
        resolved = _resolve(value)
        if field is not None and resolved is not None:
            kwargs[field] = resolved
    return kwargs


def _port_of(service_name: str) -> int:
    """The HTTP port a Progress Sync service listens on, as its Settings would read it."""
    return int(_setting_of(service_name, PORT_FIELD_BY_MODULE[APP_SERVICES[service_name]]))


def _setting_of(service_name: str, field: str) -> str:
    """A Settings field as a compose service's environment sets it, else its default."""
    value = _settings_kwargs(SERVICES[service_name]).get(field)
    return str(Settings.model_fields[field].default if value is None else value)


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def _healthcheck_text(service: dict[str, Any]) -> str:
    check = service.get("healthcheck") or {}
    if check.get("disable"):
        return ""
    test = check.get("test") or ""
    return " ".join(str(part) for part in test) if isinstance(test, list) else str(test)


def _dockerfile_of(service: dict[str, Any]) -> tuple[Path, Path]:
    build = service["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
    return context, context / build.get("dockerfile", "Dockerfile")


def _listener_ports(listeners: str) -> dict[str, tuple[str, int]]:
    """`NAME://host:port,...` -> {NAME: (host, port)}."""
    result: dict[str, tuple[str, int]] = {}
    for listener in filter(None, (item.strip() for item in listeners.split(","))):
        name, _, address = listener.partition("://")
        host, _, port = address.rpartition(":")
        result[name] = (host, int(port))
    return result


def _kafka_service() -> tuple[str, dict[str, Any]]:
    for name, service in SERVICES.items():
        if str(service.get("image", "")).startswith("apache/kafka"):
            return name, service
    pytest.fail("no service runs the official apache/kafka image")


def _mongo_service() -> tuple[str, dict[str, Any]]:
    for name, service in SERVICES.items():
        if re.match(r"(docker\.io/)?(library/)?mongo(:|$)", str(service.get("image", ""))):
            return name, service
    pytest.fail("no service runs the official mongo image")


def _prometheus_config() -> dict[str, Any]:
    for service in SERVICES.values():
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict):
                source, target = volume.get("source", ""), volume.get("target", "")
            else:
                source, _, rest = str(volume).partition(":")
                target = rest.split(":")[0]
            if target == PROMETHEUS_CONFIG_IN_CONTAINER:
                path = COMPOSE_FILE.parent / source
                assert path.is_file(), f"{source} is mounted into Prometheus but does not exist"
                config: dict[str, Any] = _load_yaml(path)
                return config
    pytest.fail(f"no service mounts a Prometheus configuration at {PROMETHEUS_CONFIG_IN_CONTAINER}")


def _scrape_targets(config: dict[str, Any]) -> Iterator[tuple[str, str, int, str]]:
    """(job, host, port, metrics path) for every static or DNS-discovered target."""
    for job in config.get("scrape_configs") or []:
        path = job.get("metrics_path", "/metrics")
        for static in job.get("static_configs") or []:
            for target in static.get("targets") or []:
                host, _, port = str(target).rpartition(":")
                yield job["job_name"], host, int(port), path
        for dns in job.get("dns_sd_configs") or []:
            assert dns.get("type", "SRV") == "A", "compose DNS has no SRV records; use type: A"
            for host in dns.get("names") or []:
                yield job["job_name"], host, int(dns["port"]), path


def _progress_services() -> list[str]:
    return [
        name
        for name, service in SERVICES.items()
        if any(key.startswith("PROGRESS_") for key in _environment(service))
    ]


def _module_pairs() -> list[tuple[str, str]]:
    pairs = [(name, module) for name, svc in SERVICES.items() for module in _python_modules(svc)]
    return list(dict.fromkeys(pairs))


@pytest.fixture
def repo_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))


@pytest.fixture
def clean_progress_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in [key for key in os.environ if key.startswith("PROGRESS_")]:
        monkeypatch.delenv(variable)


# --- the stack -------------------------------------------------------------------------


def test_compose_declares_the_whole_stack() -> None:
    assert set(APP_SERVICES.values()) == set(PORT_FIELD_BY_MODULE), (
        f"services found: {APP_SERVICES}"
    )
    _kafka_service()
    _mongo_service()
    assert any(str(s.get("image", "")).startswith("prom/prometheus") for s in SERVICES.values())
    init = [
        name for name, svc in SERVICES.items() if "services.progressctl" in _python_modules(svc)
    ]
    assert init, "no one-shot service runs `python -m services.progressctl`"


# --- settings --------------------------------------------------------------------------


@pytest.mark.parametrize("service_name", _progress_services())
def test_every_progress_variable_is_a_settings_field(service_name: str) -> None:
    unknown = sorted(set(_environment(SERVICES[service_name])) - set(SETTINGS_VARIABLES))
    unknown = [variable for variable in unknown if variable.startswith("PROGRESS_")]
    assert not unknown, f"{service_name} sets variables Settings does not read: {unknown}"


def test_dockerfile_sets_only_settings_variables() -> None:
    for name in APP_SERVICES:
        _, dockerfile = _dockerfile_of(SERVICES[name])
        variables = set(re.findall(r"\b(PROGRESS_[A-Z0-9_]+)=", dockerfile.read_text()))
        assert variables <= set(SETTINGS_VARIABLES), variables - set(SETTINGS_VARIABLES)


@pytest.mark.usefixtures("clean_progress_environment")
@pytest.mark.parametrize("service_name", _progress_services())
def test_progress_values_are_valid_settings(service_name: str) -> None:
    settings = Settings(_env_file=None, **_settings_kwargs(SERVICES[service_name]))
    assert settings.kafka_idempotent is True, "Apache Kafka supports the idempotent producer"
    assert _environment(SERVICES[service_name]).get("PROGRESS_KAFKA_IDEMPOTENT") == "true"


@pytest.mark.parametrize("service_name", _progress_services())
def test_the_erasure_secret_is_required_and_the_environment_is_production(
    service_name: str,
) -> None:
    """Issue 23: without `${PROGRESS_ERASURE_SECRET:?…}` every service ran on the public default."""
    environment = _environment(SERVICES[service_name])
    required = INTERPOLATION.fullmatch(environment.get("PROGRESS_ERASURE_SECRET", ""))
    assert required is not None, "PROGRESS_ERASURE_SECRET: ${PROGRESS_ERASURE_SECRET:?...}"
    assert required.group(1, 2) == ("PROGRESS_ERASURE_SECRET", ":?")
    assert _resolve(environment.get("PROGRESS_ENVIRONMENT", "production")) == "production"


@pytest.mark.parametrize("service_name", _progress_services())
def test_kafka_and_mongo_addresses_name_compose_containers(service_name: str) -> None:
    kwargs = _settings_kwargs(SERVICES[service_name])
    assert "kafka_bootstrap" in kwargs, "set PROGRESS_KAFKA_BOOTSTRAP, never the default"
    assert "mongo_url" in kwargs, "set PROGRESS_MONGO_URL, never the default"

    kafka_name, kafka = _kafka_service()
    advertised = _listener_ports(_environment(kafka)["KAFKA_ADVERTISED_LISTENERS"])
    for server in kwargs["kafka_bootstrap"].split(","):
        host, _, port = server.strip().rpartition(":")
        assert host in (kafka_name, kafka.get("hostname")), f"{server} is not the Kafka service"
        assert (host, int(port)) in advertised.values(), f"{server} is no advertised listener"

    mongo_name, mongo = _mongo_service()
    url = urlsplit(kwargs["mongo_url"])
    assert url.hostname in (mongo_name, mongo.get("hostname"))
    replica_set = re.search(r"--replSet[\s=]+(\w+)", _command_text(mongo))
    assert replica_set, "mongod runs without --replSet"
    assert parse_qs(url.query).get("replicaSet") == [replica_set.group(1)]


# --- commands and images ---------------------------------------------------------------


@pytest.mark.usefixtures("repo_on_path")
@pytest.mark.parametrize(("service_name", "module"), _module_pairs())
def test_python_m_modules_exist(service_name: str, module: str) -> None:
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{service_name}: no module {module}"
    if spec.submodule_search_locations is not None:  # a package: `-m` runs its __main__
        main = importlib.util.find_spec(f"{module}.__main__")
        assert main is not None, f"{service_name}: package {module} has no __main__"
    assert spec.origin is not None
    assert Path(spec.origin).resolve().is_relative_to(REPO), f"{module} is not this repo's"


def test_every_build_references_an_existing_dockerfile() -> None:
    built = [name for name, service in SERVICES.items() if "build" in service]
    assert set(APP_SERVICES) <= set(built), "every Progress Sync service is built from source"
    for name in built:
        context, dockerfile = _dockerfile_of(SERVICES[name])
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
    assert len({_dockerfile_of(SERVICES[name]) for name in built}) == 1, "one image for all"


def test_dockerfile_is_multistage_non_root_and_hash_locked() -> None:
    context, dockerfile = _dockerfile_of(SERVICES[next(iter(APP_SERVICES))])
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    instructions = [line.strip() for line in text.splitlines() if line.strip()]
    instructions = [line for line in instructions if not line.startswith("#")]

    stages = [i for i, line in enumerate(instructions) if line.upper().startswith("FROM ")]
    assert len(stages) >= 2, "the Dockerfile is not multi-stage"
    final_stage = instructions[stages[-1] :]
    users = [line.split()[1] for line in final_stage if line.upper().startswith("USER ")]
    assert users, "the final stage never leaves root"
    assert users[-1].split(":")[0] not in ("root", "0")

    installs = [line for line in instructions if "pip install" in line]
    assert any("--require-hashes" in line and "requirements.lock" in line for line in installs)
    assert any("--no-deps" in line for line in installs)

    ignored = set()
    dockerignore = context / ".dockerignore"
    if dockerignore.is_file():
        ignored = {
            line.strip().strip("/")
            for line in dockerignore.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
    for line in instructions:
        parts = line.split()
        if parts[0].upper() != "COPY" or any(part.startswith("--from") for part in parts):
            continue
        for source in parts[1:-1]:
            if source.startswith("--"):
                continue
            assert (context / source).exists(), f"COPY {source}: not in the build context"
            assert source.strip("/") not in ignored, f"COPY {source}: excluded by .dockerignore"


# --- ordering, health and restarts -----------------------------------------------------


@pytest.mark.parametrize("service_name", list(SERVICES))
def test_depends_on_targets_exist(service_name: str) -> None:
    for target, condition in _depends_on(SERVICES[service_name]).items():
        assert target in SERVICES, f"{service_name} depends on unknown service {target}"
        assert condition in DEPENDS_ON_CONDITIONS, condition
        if condition == "service_healthy":
            assert _healthcheck_text(SERVICES[target]), f"{target} has no health check"
        if condition == "service_completed_successfully":
            restart = str(SERVICES[target].get("restart", "no"))
            assert restart == "no", f"{target} is waited for to exit but restarts ({restart})"


def test_init_creates_topics_once_kafka_is_healthy() -> None:
    kafka_name, _ = _kafka_service()
    mongo_name, _ = _mongo_service()
    inits = [
        name
        for name, service in SERVICES.items()
        if re.search(r"services\.progressctl\s+topics\s+create", _command_text(service))
    ]
    assert len(inits) == 1, "exactly one service runs `progressctl topics create`"
    init = inits[0]
    assert _depends_on(SERVICES[init]).get(kafka_name) == "service_healthy"
    assert _depends_on(SERVICES[init]).get(mongo_name) == "service_healthy"
    for name in APP_SERVICES:
        depends = _depends_on(SERVICES[name])
        assert depends.get(init) == "service_completed_successfully", name
        assert depends.get(kafka_name) == "service_healthy", name
        assert depends.get(mongo_name) == "service_healthy", name


def test_init_only_creates_the_bootstrap_tenant_if_it_is_missing() -> None:
    """A redeploy must never undo a rotation: init runs `tenant bootstrap`, nothing that resets."""
    from services.progressctl import provisioning, tenants

    bootstraps = [
        name
        for name, service in SERVICES.items()
        if re.search(r"services\.progressctl\s+tenant\s+bootstrap\b", _command_text(service))
    ]
    assert len(bootstraps) == 1, "exactly one service runs `progressctl tenant bootstrap`"
    assert str(SERVICES[bootstraps[0]].get("restart", "no")) == "no"
    assert not re.search(r"services\.progressctl\s+run\b", _command_text(SERVICES[bootstraps[0]]))
    command = inspect.getsource(tenants.bootstrap)
    assert "bootstrap_tenant(" in command
    assert "reapply" not in command
    assert "create_if_missing" in inspect.getsource(provisioning.bootstrap_tenant)


@pytest.mark.parametrize("service_name", list(APP_SERVICES))
def test_services_have_http_health_checks_and_restart(service_name: str) -> None:
    service = SERVICES[service_name]
    policy = str(service.get("restart", "no")).split(":")[0]
    assert policy in RESTART_POLICIES, f"{service_name}: restart {policy!r}"

    check = _healthcheck_text(service)
    assert re.search(r"/(healthz|readyz)\b", check), f"{service_name}: no /healthz or /readyz"
    field = PORT_FIELD_BY_MODULE[APP_SERVICES[service_name]]
    variable = f"PROGRESS_{field.upper()}"
    if variable in check:
        assert variable in _environment(service), f"{service_name}: {variable} is not set"
    else:
        assert f":{_port_of(service_name)}/" in check, f"{service_name}: checks the wrong port"


@pytest.mark.parametrize(
    "service_name",
    [
        name
        for name, service in SERVICES.items()
        if name not in APP_SERVICES and "services.progressctl" not in _python_modules(service)
    ],
)
def test_infrastructure_restarts(service_name: str) -> None:
    service = SERVICES[service_name]
    policy = str(service.get("restart", "no")).split(":")[0]
    assert policy in RESTART_POLICIES, f"{service_name}: restart {policy!r}"


def test_http_services_bind_all_interfaces() -> None:
    for name in APP_SERVICES:
        env = _environment(SERVICES[name])
        assert env.get("PROGRESS_HTTP_HOST") == "0.0.0.0", name


def test_consumers_can_scale() -> None:
    scalable = [name for name, module in APP_SERVICES.items() if module in SCALABLE_MODULES]
    assert len(scalable) == len(SCALABLE_MODULES)
    for name in scalable:
        service = SERVICES[name]
        assert "container_name" not in service, f"{name}: a fixed name forbids --scale"
        assert not service.get("ports"), f"{name}: a host port forbids --scale"


# --- Kafka, MongoDB, Prometheus --------------------------------------------------------


def test_kafka_runs_in_kraft_mode() -> None:
    kafka_name, kafka = _kafka_service()
    env = _environment(kafka)
    assert not any("ZOOKEEPER" in key for key in env)
    assert {"broker", "controller"} <= set(env.get("KAFKA_PROCESS_ROLES", "").split(","))
    node_id = env["KAFKA_NODE_ID"]
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert voters.startswith(f"{node_id}@"), "this node is not the controller quorum"

    listeners = _listener_ports(env["KAFKA_LISTENERS"])
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners, "the controller listener is not bound"
    assert str(listeners[controller][1]) in voters, "the quorum does not use the controller port"
    assert controller not in _listener_ports(env["KAFKA_ADVERTISED_LISTENERS"])
    assert set(_listener_ports(env["KAFKA_ADVERTISED_LISTENERS"])) <= set(listeners)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR") == "1", "one node: RF 1"
    assert _healthcheck_text(kafka)
    assert kafka_name in voters or kafka.get("hostname", "") in voters


def test_mongo_replica_set_is_initiated_by_compose() -> None:
    mongo_name, mongo = _mongo_service()
    replica_set = re.search(r"--replSet[\s=]+(\w+)", _command_text(mongo))
    assert replica_set
    check = _healthcheck_text(mongo)
    assert "rs.initiate(" in check, "the health check does not initiate the replica set"
    assert re.search(rf"_id:\s*['\"]{replica_set.group(1)}['\"]", check)
    member = re.search(r"host:\s*['\"]([\w.-]+):(\d+)['\"]", check)
    assert member, "the replica set member has no host"
    assert member.group(1) in (mongo_name, mongo.get("hostname"))
    assert "--bind_ip_all" in _command_text(mongo) or "--bind_ip" in _command_text(mongo)


def test_prometheus_scrapes_every_service_on_its_metrics_port() -> None:
    scraped: set[str] = set()
    for job, host, port, path in _scrape_targets(_prometheus_config()):
        assert host in SERVICES, f"job {job}: {host} is not a compose service"
        if host in APP_SERVICES:
            metrics_port = int(_setting_of(host, "metrics_port"))
            assert port == metrics_port, f"job {job}: {host}:{port}, metrics port differs"
            assert port != _port_of(host), f"job {job}: metrics on the service's API port"
            assert _setting_of(host, "metrics_host") == "0.0.0.0", f"{host}: metrics unreachable"
            assert path == "/metrics", f"job {job}: metrics path {path}"
            scraped.add(host)
    assert scraped == set(APP_SERVICES), f"not scraped: {set(APP_SERVICES) - scraped}"
