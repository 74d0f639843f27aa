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
    assert {"kafka", "postgres", "hub-api", "hub-worker"} <= set(services)
    for name in ("kafka", "postgres", "hub-api"):
        assert services[name]["healthcheck"]["test"], name
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}


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
    for variable in ("PIVOT_API_WEBHOOK_SECRET", "PIVOT_API_ADMIN_API_KEY", "POSTGRES_PASSWORD"):
        assert re.search(r"\$\{" + variable + r":\?", text), variable


def test_the_image_installs_every_package_the_hub_imports() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("pivot", "canonical_model", "connectors", "observability", "contracts"):
        assert f"COPY {package} " in dockerfile, package
