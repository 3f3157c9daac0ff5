"""deploy/: the compose file and the Kubernetes manifests checked against their schemas,
the RabbitMQ definitions against the topology, the routes against the OpenAPI paths."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared import topology

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S_VERSION = "1.30.0"
OPERATOR_KINDS = {"RabbitmqCluster", "MongoDBCommunity"}  # CRDs: no schema bundled


def k8s_documents():
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path.name, doc


def test_compose_file_follows_the_compose_specification():
    schema_text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(
        "compose-spec.json").read_text()
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    jsonschema.validate(compose, json.loads(schema_text))
    assert {"mongo", "rabbitmq", "survey", "scoring", "notify", "proxy"} <= set(
        compose["services"])
    for name in ("survey", "scoring", "notify", "mongo", "rabbitmq", "proxy"):
        assert "healthcheck" in compose["services"][name] or name in (
            "survey", "scoring", "notify")


@pytest.mark.parametrize("name, doc", list(k8s_documents()),
                         ids=lambda v: v if isinstance(v, str) else v.get("kind"))
def test_kubernetes_manifests_are_valid(name, doc):
    if doc["kind"] in OPERATOR_KINDS:
        assert doc["apiVersion"].split("/")[0] in ("rabbitmq.com",
                                                   "mongodbcommunity.mongodb.com")
        assert doc["spec"]["replicas" if doc["kind"] == "RabbitmqCluster" else "members"] == 3
        return
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_every_service_has_probes_resources_and_a_disruption_budget():
    docs = [d for _, d in k8s_documents()]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {"congso-survey", "congso-scoring", "congso-notify"}
    for d in deployments.values():
        container = d["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["requests"]
    pdbs = {d["metadata"]["name"] for d in docs if d["kind"] == "PodDisruptionBudget"}
    hpas = {d["metadata"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    assert pdbs == set(deployments) and hpas == {"congso-survey", "congso-scoring"}


def test_rabbitmq_definitions_are_the_topology():
    on_disk = json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())
    assert on_disk == topology.definitions()


def _openapi_paths(create_app, mongo_url):
    from devkit.apps import make_settings
    from shared.memory_bus import MemoryBus

    service = create_app.__module__.split(".")[1]
    app = create_app(make_settings(service, mongo_url), bus=MemoryBus())
    return [p for p in app.test_client().get("/api/v1/openapi.json").get_json()["paths"]]


# served by every service (each checks the caller by itself); the proxy sends them to survey
SHARED_PATHS = {"/api/v1/me", "/assets/<path:filename>"}
PROBES = {"/healthz", "/readyz", "/metrics", "/static/<path:filename>"}


def _page_paths(create_app, mongo_url) -> list[str]:
    from devkit.apps import make_settings
    from shared.memory_bus import MemoryBus

    service = create_app.__module__.split(".")[1]
    app = create_app(make_settings(service, mongo_url), bus=MemoryBus())
    return sorted({r.rule for r in app.url_map.iter_rules()
                   if not r.rule.startswith("/api/") and r.rule not in PROBES})


def _routes():
    nginx = (DEPLOY / "nginx" / "congso.conf").read_text()
    routes = [(re.compile(m.group(1)), m.group(2)) for m in re.finditer(
        r"location ~ (\^/\S+)\s+\{\s*proxy_pass http://(\w+);", nginx)]
    routes += [(re.compile(re.escape(m.group(1)) + "$"), m.group(2)) for m in re.finditer(
        r"location = (/\S*)\s+\{\s*proxy_pass http://(\w+);", nginx)]
    routes += [(re.compile(re.escape(m.group(1))), m.group(2)) for m in re.finditer(
        r"location (/\S+/)\s+\{\s*proxy_pass http://(\w+);", nginx)]
    ingress = next(d for _, d in k8s_documents() if d["kind"] == "Ingress")
    rules = [(re.compile("^" + p["path"]), p["backend"]["service"]["name"])
             for p in ingress["spec"]["rules"][0]["http"]["paths"]]
    return routes, rules


@pytest.mark.parametrize("service", ["survey", "scoring", "notify"])
def test_nginx_and_ingress_route_every_path_to_its_owner(service, mongo_url):
    import importlib

    create_app = importlib.import_module(f"services.{service}.app").create_app
    paths = _openapi_paths(create_app, mongo_url) + _page_paths(create_app, mongo_url)
    routes, rules = _routes()
    for path in paths:
        owner = "survey" if path in SHARED_PATHS else service
        # a year where a rule takes one, "X" for any other parameter
        concrete = re.sub(r"<year>|<int:year>", "2026", path)
        concrete = re.sub(r"\{[^}]+\}|<[^>]+>", "X", concrete)
        owners = {o for rx, o in routes if rx.match(concrete)}
        assert owners == {owner}, (path, owners)
        k8s_owners = {o for rx, o in rules if rx.match(concrete)}
        assert k8s_owners == {f"congso-{owner}"}, (path, k8s_owners)


TRUSTED_HEADERS = {"X-Forwarded-For": "$remote_addr", "X-Forwarded-Proto": "$scheme",
                   "X-Forwarded-Host": "$host", "X-Forwarded-Port": "$server_port",
                   "X-Forwarded-Prefix": '""', "Forwarded": '""', "X-Real-IP": '""'}


def test_nginx_sets_or_clears_every_forwarded_header_the_services_trust():
    nginx = (DEPLOY / "nginx" / "congso.conf").read_text()
    server = nginx[nginx.index("server {"):]
    set_here = dict(re.findall(r"^\s{4}proxy_set_header (\S+) (\S+);", server, re.M))
    for header, value in TRUSTED_HEADERS.items():
        assert set_here.get(header) == value, header
    # a location with a proxy_set_header of its own would drop every one of the above
    assert len(re.findall(r"proxy_set_header", server)) == len(set_here)


def test_a_client_sent_prefix_or_host_does_not_rewrite_the_kiosk_page(mongo_url):
    """Behind the proxy (TRUSTED_PROXIES=1) a client's X-Forwarded-Prefix used to move the
    kiosk's form and script URLs under a path of the client's choosing."""
    from devkit.apps import make_settings, seed_directory, start
    from services.survey.app import create_app
    from shared.memory_bus import MemoryBus

    running = start(create_app, make_settings("survey", mongo_url, trusted_proxies=1),
                    MemoryBus())
    try:
        token = seed_directory(running.client)
        page = running.client.get(f"/k/{token}", headers={
            "X-Forwarded-Prefix": "/evil"}).get_data(as_text=True)
        assert "/evil" not in page and f'action="/k/{token}' in page
    finally:
        running.stop()
