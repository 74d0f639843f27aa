"""docker-compose.yml cannot run here (no engine): check its structure instead."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_their_health_checks() -> None:
    services = _compose()["services"]
    assert {"kafka", "postgres", "hub-api", "hub-worker", "kestra", "kestra-postgres",
            "prometheus", "grafana", "otel-collector", "tempo", "sandbox-erp", "sandbox-ublo",
            "sandbox-urbest", "sandbox-chatbot"} <= set(services)
    for name in ("kafka", "postgres", "hub-api"):
        assert services[name]["healthcheck"]["test"], name
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition["condition"] in {"service_healthy", "service_started"}, name
            if condition["condition"] == "service_healthy":
                assert services[dependency].get("healthcheck", {}).get("test"), (
                    f"{name} waits for {dependency} to be healthy but it has no health check")


def test_every_service_has_an_image_or_a_build() -> None:
    for name, service in _compose()["services"].items():
        assert service.get("image") or service.get("build"), name


def test_mounted_configuration_files_exist_in_the_repository() -> None:
    mounted = []
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, missing from the repo"
                mounted.append(source)
    assert "./observability/prometheus/prometheus.yml" in mounted
    assert "./observability/grafana/dashboards" in mounted


def test_host_ports_do_not_clash() -> None:
    published: dict[str, str] = {}
    for name, service in _compose()["services"].items():
        for port in service.get("ports") or []:
            host = str(port).rsplit(":", 1)[0]
            assert host not in published, f"{name} and {published.get(host)} both publish {host}"
            published[host] = name
    assert "replicas" in _compose()["services"]["hub-worker"]["deploy"]
    assert not _compose()["services"]["hub-worker"].get("ports"), "replicas cannot share a port"


def test_prometheus_scrapes_the_api_and_every_worker() -> None:
    services = _compose()["services"]
    config = yaml.safe_load((ROOT / "observability/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["pivot-api"]["static_configs"][0]["targets"] == ["hub-api:8000"]
    worker = jobs["pivot-worker"]["dns_sd_configs"][0]
    assert worker["names"] == ["hub-worker"]
    env = services["hub-worker"]["environment"]
    assert str(worker["port"]) == env["PIVOT_WORKER_METRICS_PORT"]
    assert env["PIVOT_WORKER_METRICS_HOST"] == "0.0.0.0"
    for pattern in config["rule_files"]:
        assert list((ROOT / "observability/prometheus").glob(pattern)), pattern


def test_grafana_is_provisioned_with_the_dashboards_and_both_datasources() -> None:
    grafana = _compose()["services"]["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
    provisioning = ROOT / "observability/grafana/provisioning"
    assert mounts["./observability/grafana/provisioning"] == "/etc/grafana/provisioning"
    providers = [p for f in (provisioning / "dashboards").glob("*.yaml")
                 for p in yaml.safe_load(f.read_text())["providers"]]
    assert [p["options"]["path"] for p in providers] == [mounts["./observability/grafana/dashboards"]]
    datasources = {d["type"]: d for f in (provisioning / "datasources").glob("*.yaml")
                   for d in yaml.safe_load(f.read_text())["datasources"]}
    assert datasources["prometheus"]["url"] == "http://prometheus:9090"
    assert datasources["tempo"]["url"] == "http://tempo:3200"


def test_traces_go_from_the_hub_to_the_collector_to_tempo() -> None:
    services = _compose()["services"]
    for name in ("hub-api", "hub-worker"):
        env = services[name]["environment"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
        assert env["OTEL_SERVICE_NAME"] == f"pivot-{name.removeprefix('hub-')}"
    collector = yaml.safe_load((ROOT / "observability/otel-collector/config.yaml").read_text())
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert collector["exporters"]["otlp/tempo"]["endpoint"] == "tempo:4317"
    assert collector["service"]["pipelines"]["traces"]["exporters"] == ["otlp/tempo"]
    tempo = yaml.safe_load((ROOT / "observability/tempo/tempo.yaml").read_text())
    assert tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")


def test_the_sandboxes_are_served_where_the_hub_calls_them() -> None:
    services = _compose()["services"]
    env = services["hub-worker"]["environment"]
    for name in ("erp", "ublo", "urbest", "chatbot"):
        command = services[f"sandbox-{name}"]["command"]
        assert command[:4] == ["pivot", "sandbox", "serve", name]
        port = command[command.index("--port") + 1]
        assert env[f"PIVOT_CONNECTOR_{name.upper()}_BASE_URL"] == f"http://sandbox-{name}:{port}"
        assert command[command.index("--hub-url") + 1] == "http://hub-api:8000"


def test_kestra_runs_standalone_on_its_own_database() -> None:
    services = _compose()["services"]
    kestra = services["kestra"]
    assert kestra["image"].startswith("kestra/kestra:")
    assert kestra["command"] == ["server", "standalone"]
    configuration = kestra["environment"]["KESTRA_CONFIGURATION"]
    assert "jdbc:postgresql://kestra-postgres:5432/kestra" in configuration
    assert services["kestra-postgres"]["environment"]["POSTGRES_DB"] == "kestra"


def test_kafka_is_apache_kafka_in_kraft_mode() -> None:
    kafka = _compose()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]


def test_hub_services_point_at_the_compose_kafka_and_postgres() -> None:
    services = _compose()["services"]
    for name in ("hub-api", "hub-worker"):
        env = services[name]["environment"]
        assert env["PIVOT_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["PIVOT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["PIVOT_ENVIRONMENT"] == "production"
        assert services[name]["command"][0] == "pivot"


def test_secrets_fail_loudly_when_missing() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for variable in ("PIVOT_API_WEBHOOK_SECRET", "PIVOT_API_ADMIN_API_KEY", "POSTGRES_PASSWORD",
                     "KESTRA_POSTGRES_PASSWORD", "KESTRA_ADMIN_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert re.search(r"\$\{" + variable + r":\?", text), variable


def test_the_image_installs_every_package_the_hub_imports() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("pivot", "canonical_model", "connectors", "observability", "contracts"):
        assert f"COPY {package} " in dockerfile, package
