"""Generated services fit the tools a team already runs: CI, pre-commit, Docker, Kubernetes.

No container engine or cluster is needed: each file is checked by the linter or schema
validator its ecosystem uses (installed with this repository's dev dependencies), and what
the validators can't know (ports, probes, replica counts, commands that exist) is asserted.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.answer_sets import ANSWER_SETS
from tests.conftest import TEMPLATE_ROOT, Completed, run
from tests.test_generated_service import text_files

pytestmark = pytest.mark.generation

RenderedFactory = Callable[[str], Path]
KUBERNETES = "deploy/kubernetes"


def tool(name: str) -> str:
    """A validator installed next to this environment's Python (a dev dependency)."""
    path = Path(sys.executable).parent / name
    assert path.is_file(), f"{name} is missing: run `uv sync` (it is a dev dependency)"
    return str(path)


def passes(result: Completed) -> None:
    """The validator found nothing."""
    assert result.returncode == 0, result.explain()


def script_of(root: Path) -> str:
    """The service's command, as its pyproject.toml installs it."""
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    [name] = scripts
    return str(name)


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The YAML documents of a file."""
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def test_the_template_workflows_pass_actionlint() -> None:
    workflows = sorted((TEMPLATE_ROOT / ".github/workflows").glob("*.yml"))
    assert workflows
    passes(run([tool("actionlint"), *map(str, workflows)], cwd=TEMPLATE_ROOT))


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_service_workflow_passes_actionlint_and_runs_every_gate(
    rendered: RenderedFactory, name: str
) -> None:
    root = rendered(name)
    workflow = root / ".github/workflows/ci.yml"
    passes(run([tool("actionlint"), str(workflow)], cwd=root))
    steps = [
        step["run"]
        for job in yaml.safe_load(workflow.read_text())["jobs"].values()
        for step in job["steps"]
        if "run" in step
    ]
    command = script_of(root)
    for gate in (
        "uv run ruff check .",
        "uv run ruff format --check .",
        "uv run mypy",
        "uv run pytest",
        f"uv run {command} db upgrade",
        f"uv run {command} db check",
    ):
        assert gate in steps, gate
    # The audit looks every locked dependency up or fails (--strict), and leaves out the
    # service itself, which no index knows.
    [audit] = [step for step in steps if "pip-audit" in step]
    assert audit.startswith("uv export --frozen --no-emit-project --format requirements-txt")
    assert audit.endswith("| uv run pip-audit --strict --disable-pip --requirement /dev/stdin")


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_pre_commit_configuration_is_valid_and_complete(
    rendered: RenderedFactory, name: str
) -> None:
    root = rendered(name)
    passes(run([tool("pre-commit"), "validate-config", ".pre-commit-config.yaml"], cwd=root))
    config = yaml.safe_load((root / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert {"end-of-file-fixer", "trailing-whitespace", "mypy", "ruff-check"} <= hooks


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_generated_files_leave_the_whitespace_hooks_nothing_to_fix(
    rendered: RenderedFactory, name: str
) -> None:
    root = rendered(name)
    # Other tests install and serve the same service: its environment, caches, lock file and
    # SQLite database are theirs, not the template's.
    made_by_running = {"uv.lock", ".db", ".db-journal"}
    for path in text_files(root):
        if made_by_running & {path.name, path.suffix}:
            continue
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(root).as_posix()
        # end-of-file-fixer: empty, or exactly one newline at the end.
        assert not text or text.endswith("\n"), f"{relative}: no newline at the end"
        assert not text.endswith("\n\n"), f"{relative}: blank lines at the end"
        trailing = [
            number for number, line in enumerate(text.splitlines(), 1) if line.rstrip() != line
        ]
        assert not trailing, f"{relative}: trailing whitespace on lines {trailing}"


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_dockerfile_passes_hadolint_and_runs_the_service_unprivileged(
    rendered: RenderedFactory, name: str
) -> None:
    root = rendered(name)
    # Every finding fails the test, style and info included.
    passes(run([tool("hadolint"), "--failure-threshold", "style", "Dockerfile"], cwd=root))
    dockerfile = (root / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2, "multi-stage"
    assert "uv sync --frozen --no-dev" in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE)
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK") :]
    assert "http://127.0.0.1:8000/health/ready'" in healthcheck.splitlines()[1]
    assert f'ENTRYPOINT ["{script_of(root)}"]' in dockerfile
    ignored = (root / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv/", ".git/", "*.db"} <= set(ignored)
    # The optional pooler's image: Debian's PgBouncer, the one the pooler test runs behind.
    pooler = "deploy/pgbouncer/Dockerfile"
    passes(run([tool("hadolint"), "--failure-threshold", "style", pooler], cwd=root))
    pooler_file = (root / pooler).read_text()
    assert "apt-get install --yes --no-install-recommends pgbouncer=" in pooler_file
    assert re.search(r"^USER 10001", pooler_file, re.MULTILINE)


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_compose_file_matches_the_compose_schema_and_scales_the_api(
    rendered: RenderedFactory, name: str
) -> None:
    root = rendered(name)
    validator = [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec"]
    passes(run([*validator, "compose.yaml"], cwd=root))
    compose = yaml.safe_load((root / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "migrate", "api", "proxy", "pooler"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    api = services["api"]
    assert api["deploy"]["replicas"] >= 2
    assert "ports" not in api, "replicas can't share a host port: the proxy publishes it"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["environment"]["JWT_SECRET"].startswith("${JWT_SECRET:?")
    assert services["proxy"]["ports"] == ["127.0.0.1:8000:8000"]
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
    for name_with_check in ("db", "api", "proxy", "pooler"):
        assert services[name_with_check]["healthcheck"]["test"], name_with_check

    # The pooler runs only with its profile; with it, the migration waits for it, and the
    # settings the services share can point them at it.
    pooler = services["pooler"]
    assert pooler["profiles"] == ["pooler"]
    assert pooler["build"] == "deploy/pgbouncer"
    assert "ports" not in pooler
    assert services["migrate"]["depends_on"]["pooler"] == {
        "condition": "service_healthy",
        "required": False,
    }
    settings = compose["x-service-settings"]
    assert "@${DATABASE_HOST:-db:5432}/" in settings["DATABASE_URL"]
    # Two roles: the migration runs as the tables' owner, the API as a role that owns nothing,
    # both made by the database's first start; the API never sees the owner's URL.
    owner_url = services["migrate"]["environment"]["DATABASE_MIGRATION_URL"]
    assert "@${DATABASE_HOST:-db:5432}/" in owner_url
    assert "DATABASE_MIGRATION_URL" not in api["environment"]
    runtime_role = settings["DATABASE_RUNTIME_ROLE"]
    assert settings["DATABASE_URL"].startswith(f"postgresql+psycopg://{runtime_role}:")
    assert not owner_url.startswith(f"postgresql+psycopg://{runtime_role}:")
    [init] = services["db"]["configs"]
    assert init["target"].startswith("/docker-entrypoint-initdb.d/")
    roles = compose["configs"][init["source"]]["content"]
    assert f"CREATE ROLE {runtime_role} LOGIN" in roles
    owner = owner_url.removeprefix("postgresql+psycopg://").split(":")[0]
    assert f"CREATE ROLE {owner} LOGIN" in roles
    users = compose["configs"]["pooler-users"]["content"]
    assert f'"{owner}"' in users
    assert f'"{runtime_role}"' in users
    assert settings["DATABASE_POOLER"] == "${DATABASE_POOLER:-none}"
    ini = pgbouncer_ini(compose["configs"]["pooler-config"]["content"])
    assert ini["pool_mode"] == "transaction"
    assert ini["listen_port"] == "6432"
    assert ini["auth_file"].endswith("/userlist.txt")
    targets = {config["source"]: config["target"] for config in pooler["configs"]}
    assert targets["pooler-config"] == "/etc/pgbouncer/pgbouncer.ini"
    assert targets["pooler-users"] == ini["auth_file"]


def pgbouncer_ini(text: str) -> dict[str, str]:
    """The settings of a pgbouncer.ini's [pgbouncer] section."""
    section = text.split("[pgbouncer]", 1)[1]
    pairs = (line.split("=", 1) for line in section.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_kubernetes_manifests_validate_and_fit_together(
    rendered: RenderedFactory, name: str
) -> None:
    root = rendered(name)
    manifests = sorted((root / KUBERNETES).glob("*.yaml"))
    passes(run([tool("kubernetes-validate"), "--strict", *map(str, manifests)], cwd=root))
    documents = [document for path in manifests for document in load_documents(path)]
    resources = {document["kind"]: document for document in documents}
    assert set(resources) == {"ConfigMap", "Secret", "Deployment", "Service", "Job"}
    config_map = resources["ConfigMap"]["metadata"]["name"]
    secrets = {
        document["metadata"]["name"]: set(document["stringData"])
        for document in documents
        if document["kind"] == "Secret"
    }
    # The service's Secret, and the owner's URL apart from it, for the migration alone.
    [secret] = [name for name, keys in secrets.items() if "DATABASE_URL" in keys]
    [owner_secret] = [name for name, keys in secrets.items() if name != secret]
    assert {"DATABASE_URL", "JWT_SECRET"} <= secrets[secret]
    assert secrets[owner_secret] == {"DATABASE_MIGRATION_URL"}
    assert resources["ConfigMap"]["data"]["DATABASE_RUNTIME_ROLE"]

    deployment = resources["Deployment"]["spec"]
    assert deployment["replicas"] >= 2
    pod = deployment["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    [api] = pod["containers"]
    assert api["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert {"cpu", "memory"} <= set(api["resources"]["limits"])
    assert {"cpu", "memory"} <= set(api["resources"]["requests"])
    assert api["securityContext"]["allowPrivilegeEscalation"] is False
    assert api["args"][0] == "serve"
    selector = resources["Service"]["spec"]["selector"]
    assert selector.items() <= deployment["template"]["metadata"]["labels"].items()

    job = resources["Job"]["spec"]["template"]["spec"]
    assert job["securityContext"]["runAsNonRoot"] is True
    [migrate] = job["containers"]
    assert migrate["args"] == ["db", "upgrade"]
    for container, names in ((api, {config_map, secret}), (migrate, {config_map, *secrets})):
        sources = {next(iter(source.values()))["name"] for source in container["envFrom"]}
        assert sources == names
    assert resources["ConfigMap"]["data"]["DATABASE_POOLER"] == "none"


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_kubernetes_pooler_option_validates_and_fits_together(
    rendered: RenderedFactory, name: str
) -> None:
    root = rendered(name)
    manifests = sorted((root / KUBERNETES / "pooler").glob("*.yaml"))
    passes(run([tool("kubernetes-validate"), "--strict", *map(str, manifests)], cwd=root))
    resources = {
        document["kind"]: document for path in manifests for document in load_documents(path)
    }
    assert set(resources) == {"ConfigMap", "Secret", "Deployment", "Service"}
    ini = pgbouncer_ini(resources["ConfigMap"]["data"]["pgbouncer.ini"])
    assert ini["pool_mode"] == "transaction"
    assert "userlist.txt" in resources["Secret"]["stringData"]

    deployment = resources["Deployment"]["spec"]
    pod = deployment["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    [pooler] = pod["containers"]
    assert pooler["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"cpu", "memory"} <= set(pooler["resources"]["limits"])
    [port] = pooler["ports"]
    assert port["containerPort"] == int(ini["listen_port"])
    [mount] = pooler["volumeMounts"]
    assert ini["auth_file"] == f"{mount['mountPath']}/userlist.txt"
    [volume] = pod["volumes"]
    mounted = {next(iter(source.values()))["name"] for source in volume["projected"]["sources"]}
    assert mounted == {
        resources["ConfigMap"]["metadata"]["name"],
        resources["Secret"]["metadata"]["name"],
    }
    service = resources["Service"]["spec"]
    assert service["selector"].items() <= deployment["template"]["metadata"]["labels"].items()
    assert [entry["port"] for entry in service["ports"]] == [port["containerPort"]]
