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
GIVEN = "secret-given-by-the-operator-at-deploy-time"
"""What a test puts where compose requires input (`${VAR:?...}`)."""
RUNTIME_LOCK = "requirements-runtime.lock"

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


def _resolve(value: str, required: str | None = None) -> str | None:
    """The value compose would pass, using `${VAR:-default}` defaults.

    A variable without a default needs input: None, or `required` in its place if given.
    """
    unresolved = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unresolved
        operator, argument = match.group(2), match.group(3)
        if operator in (":-", "-"):
            return argument
        if required is not None:
            return required
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


def _settings_kwargs(service: dict[str, Any], required: str | None = None) -> dict[str, str]:
    kwargs: dict[str, str] = {}
    for variable, value in _environment(service).items():
        field = SETTINGS_VARIABLES.get(variable)
        resolved = _resolve(value, required)
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


def _kafka_nodes() -> dict[str, dict[str, Any]]:
    """The Kafka nodes (apache/kafka services with a KRaft node id), by service name."""
    nodes = {
        name: service
        for name, service in SERVICES.items()
        if str(service.get("image", "")).startswith("apache/kafka")
        and "KAFKA_NODE_ID" in _environment(service)
    }
    if not nodes:
        pytest.fail("no service runs a Kafka node of the official apache/kafka image")
    return nodes


def _mongo_members() -> dict[str, dict[str, Any]]:
    """The mongod services of the official mongo image, by service name."""
    members = {
        name: service
        for name, service in SERVICES.items()
        if re.match(r"(docker\.io/)?(library/)?mongo(:|$)", str(service.get("image", "")))
        and _command_text(service).startswith("mongod")
    }
    if not members:
        pytest.fail("no service runs mongod of the official mongo image")
    return members


def _host_of(name: str, service: dict[str, Any]) -> str:
    return str(service.get("hostname", name))


def _waits_for(name: str, condition: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """Every service `name` waits for, directly or through others, with this condition."""
    found: set[str] = set()
    for target, how in _depends_on(SERVICES[name]).items():
        if target not in seen:
            if how == condition:
                found.add(target)
            found |= _waits_for(target, condition, seen | {name})
    return found


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
    assert len(_kafka_nodes()) == 3, "a production-like Kafka has three nodes"
    assert len(_mongo_members()) == 3, "a production-like replica set has three members"
    assert any(str(s.get("image", "")).startswith("prom/prometheus") for s in SERVICES.values())
    assert any(str(s.get("image", "")).startswith("prom/alertmanager") for s in SERVICES.values())
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
def test_progress_values_are_valid_settings(service_name: str, tmp_path: Path) -> None:
    kwargs = _settings_kwargs(SERVICES[service_name], required=GIVEN)
    # The CA file exists in the container (a secret): here, an empty stand-in at the same name.
    cafile = kwargs.pop("kafka_ssl_cafile", None)
    if cafile is not None:
        assert cafile in _secret_targets(SERVICES[service_name]), f"{cafile} is not mounted"
        (tmp_path / "ca.pem").touch()
        kwargs["kafka_ssl_cafile"] = str(tmp_path / "ca.pem")
    settings = Settings(_env_file=None, **kwargs)
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
    kwargs = _settings_kwargs(SERVICES[service_name], required=GIVEN)
    assert "kafka_bootstrap" in kwargs, "set PROGRESS_KAFKA_BOOTSTRAP, never the default"
    assert "mongo_url" in kwargs, "set PROGRESS_MONGO_URL, never the default"

    client_listeners = {
        address: name
        for node in _kafka_nodes().values()
        for name, address in _listener_ports(
            _environment(node)["KAFKA_ADVERTISED_LISTENERS"]
        ).items()
    }
    servers = {
        (host, int(port))
        for host, _, port in (s.rpartition(":") for s in kwargs["kafka_bootstrap"].split(","))
    }
    assert servers <= set(client_listeners), f"not advertised listeners: {servers}"
    assert len(servers) == len(_kafka_nodes()), "bootstrap from every node, not just one"

    url = urlsplit(kwargs["mongo_url"])
    hosts = {host.rpartition("@")[2] for host in url.netloc.split(",")}
    members = {f"{_host_of(n, m)}:27017" for n, m in _mongo_members().items()}
    assert hosts == members, "the URL names every replica set member (any may be primary)"
    for member in _mongo_members().values():
        replica_set = re.search(r"--replSet[\s=]+(\w+)", _command_text(member))
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
    assert any("--require-hashes" in line and RUNTIME_LOCK in line for line in installs)
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
    inits = [
        name
        for name, service in SERVICES.items()
        if re.search(r"services\.progressctl\s+topics\s+create", _command_text(service))
    ]
    assert len(inits) == 1, "exactly one service runs `progressctl topics create`"
    init = inits[0]
    servers = set(_kafka_nodes()) | set(_mongo_members())
    assert servers <= _waits_for(init, "service_healthy"), "init starts before its servers"
    once = _waits_for(init, "service_completed_successfully")
    assert {"kafka-users", "mongo-init"} <= once, "init starts before the users exist"
    for name in APP_SERVICES:
        depends = _depends_on(SERVICES[name])
        assert depends.get(init) == "service_completed_successfully", name
        assert servers <= _waits_for(name, "service_healthy"), name


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
        if name not in APP_SERVICES
        and "services.progressctl" not in _python_modules(service)
        and str(service.get("restart", "no")) != "no"  # one-shot jobs (users, replica set)
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


@pytest.mark.parametrize("node_name", list(_kafka_nodes()))
def test_kafka_runs_three_kraft_nodes_with_replication(node_name: str) -> None:
    node = _kafka_nodes()[node_name]
    env = _environment(node)
    assert not any("ZOOKEEPER" in key for key in env)
    assert {"broker", "controller"} <= set(env.get("KAFKA_PROCESS_ROLES", "").split(","))
    listeners = _listener_ports(env["KAFKA_LISTENERS"])
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners, "the controller listener is not bound"
    assert controller not in _listener_ports(env["KAFKA_ADVERTISED_LISTENERS"])
    assert set(_listener_ports(env["KAFKA_ADVERTISED_LISTENERS"])) <= set(listeners)

    voters = {
        voter.partition("@")[0]: voter.partition("@")[2]
        for voter in env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    }
    expected = {
        _environment(other)["KAFKA_NODE_ID"]: f"{_host_of(name, other)}:{listeners[controller][1]}"
        for name, other in _kafka_nodes().items()
    }
    assert voters == expected, "every node votes in one quorum of all three"
    assert len(set(voters)) == 3, "node ids are unique"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for variable in (
        "KAFKA_DEFAULT_REPLICATION_FACTOR",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
    ):
        assert env.get(variable) == "3", f"{variable}: every partition on all three nodes"
    assert env.get("KAFKA_MIN_INSYNC_REPLICAS") == "2", "an acknowledged write is on two nodes"
    assert env.get("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR") == "2"
    assert env.get("KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE") == "false"
    assert _healthcheck_text(node)


@pytest.mark.parametrize("node_name", list(_kafka_nodes()))
def test_kafka_speaks_only_tls_and_clients_authenticate_with_scram(node_name: str) -> None:
    env = _environment(_kafka_nodes()[node_name])
    protocol_map = env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    protocols = dict(item.split(":") for item in protocol_map.split(","))
    assert set(_listener_ports(env["KAFKA_LISTENERS"])) == set(protocols)
    assert set(protocols.values()) <= {"SSL", "SASL_SSL"}, f"a clear-text listener: {protocols}"
    assert env["KAFKA_SSL_CLIENT_AUTH"] == "required", "brokers prove who they are to each other"
    mounted = {
        str(volume).split(":")[1]
        for volume in _kafka_nodes()[node_name]["volumes"]
        if str(volume).startswith("./deploy/secrets/")
    }
    for store in ("KAFKA_SSL_KEYSTORE", "KAFKA_SSL_TRUSTSTORE"):
        location = env[f"{store}_LOCATION"]
        assert any(location.startswith(f"{folder}/") for folder in mounted), location
        password = INTERPOLATION.fullmatch(env[f"{store}_PASSWORD"])
        assert password is not None, f"{store}_PASSWORD is written in the file"
        assert password.group(2) == ":?", f"{store}_PASSWORD is not required"
    mechanism = _setting_of("gateway", "kafka_sasl_mechanism")
    assert mechanism in env["KAFKA_SASL_ENABLED_MECHANISMS"].split(",")
    assert "java.security.auth.login.config" in env["KAFKA_OPTS"]

    bootstrap_port = int(_setting_of("gateway", "kafka_bootstrap").split(",")[0].rpartition(":")[2])
    client = next(
        name
        for name, (_, port) in _listener_ports(env["KAFKA_ADVERTISED_LISTENERS"]).items()
        if port == bootstrap_port
    )
    assert protocols[client] == _setting_of("gateway", "kafka_security_protocol") == "SASL_SSL"


@pytest.mark.parametrize("service_name", _progress_services())
def test_the_app_replicates_every_topic_three_times(service_name: str) -> None:
    assert _setting_of(service_name, "kafka_replication_factor") == str(len(_kafka_nodes()))


@pytest.mark.parametrize("service_name", _progress_services())
def test_kafka_and_mongo_credentials_are_required(service_name: str) -> None:
    environment = _environment(SERVICES[service_name])
    password = INTERPOLATION.fullmatch(environment["PROGRESS_KAFKA_SASL_PASSWORD"])
    assert password is not None, "the SCRAM password is required"
    assert password.group(2) == ":?", "the SCRAM password is required"
    raw_url = environment["PROGRESS_MONGO_URL"]
    url = urlsplit(_resolve(raw_url, required=GIVEN) or "")
    assert url.password == GIVEN, "PROGRESS_MONGO_URL carries no password"
    secret = INTERPOLATION.search(raw_url)
    assert secret is not None, "the MongoDB password is required"
    assert secret.group(2) == ":?", "the MongoDB password is required"
    query = parse_qs(url.query)
    assert query.get("tls") == ["true"], "MongoDB over TLS"
    assert query.get("tlsCAFile", [""])[0] in _secret_targets(SERVICES[service_name])


def _secret_targets(service: dict[str, Any]) -> set[str]:
    """Paths where a service's compose secrets appear (`/run/secrets/<name>` by default)."""
    targets = set()
    for secret in service.get("secrets") or []:
        name = secret if isinstance(secret, str) else secret["source"]
        target = name if isinstance(secret, str) else secret.get("target", name)
        assert name in (COMPOSE.get("secrets") or {}), f"secret {name} is not declared"
        targets.add(target if target.startswith("/") else f"/run/secrets/{target}")
    return targets


def test_every_declared_secret_is_a_file_outside_the_repository() -> None:
    declared = COMPOSE.get("secrets") or {}
    assert declared
    for name, secret in declared.items():
        assert str(secret.get("file", "")).startswith("./deploy/secrets/"), name
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert "/deploy/secrets/" in ignored, "secrets must never be committed"


@pytest.mark.parametrize("member_name", list(_mongo_members()))
def test_mongo_members_require_tls_and_authenticate_each_other(member_name: str) -> None:
    member = _mongo_members()[member_name]
    command = _command_text(member)
    assert re.search(r"--replSet[\s=]+rs0\b", command)
    assert re.search(r"--tlsMode[\s=]+requireTLS\b", command)
    key_file = re.search(r"--keyFile[\s=]+(\S+)", command)
    assert key_file, "the members do not authenticate each other"
    assert key_file.group(1) in _secret_targets(member), "the key file is not a secret"
    assert "--bind_ip_all" in command or "--bind_ip" in command
    assert "--tls" in _healthcheck_text(member)


def test_mongo_replica_set_is_initiated_with_every_member() -> None:
    init = SERVICES["mongo-init"]
    assert str(init.get("restart")) == "no"
    script_mount = next(str(v) for v in init["volumes"] if ".js:" in str(v))
    script = (REPO / script_mount.partition(":")[0]).read_text()
    assert "rs.initiate(" in script
    assert '_id: "rs0"' in script
    listed = set(re.findall(r'"([\w.-]+:\d+)"', script))
    assert listed == {f"{_host_of(n, m)}:27017" for n, m in _mongo_members().items()}
    assert "createUser" in script, "the app user is not created"
    assert "getUser" in script, "the app user is created again on every start"
    assert set(_mongo_members()) <= _waits_for("mongo-init", "service_healthy")


def test_prometheus_sends_alerts_to_alertmanager() -> None:
    config = _prometheus_config()
    assert config.get("rule_files"), "no alert rules are loaded"
    targets = [
        target
        for manager in config["alerting"]["alertmanagers"]
        for static in manager["static_configs"]
        for target in static["targets"]
    ]
    assert targets, "Prometheus has no Alertmanager"
    for target in targets:
        host, _, port = target.rpartition(":")
        assert str(SERVICES[host]["image"]).startswith("prom/alertmanager"), target
        assert port == "9093"
        mount = next(str(v) for v in SERVICES[host]["volumes"] if "alertmanager.yml:" in str(v))
        routing = _load_yaml(REPO / mount.partition(":")[0])
        receivers = {receiver["name"] for receiver in routing["receivers"]}
        routes = [routing["route"], *routing["route"].get("routes", [])]
        assert all(route["receiver"] in receivers for route in routes)
        for receiver in routing["receivers"]:
            for webhook in receiver.get("webhook_configs", []):
                assert webhook["url_file"] in _secret_targets(SERVICES[host])


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
