"""Template releases and updates of services that teams have already edited.

The template is released three times in a temporary git repository: 0.1.0 is the work tree
as it is; 0.2.0 edits a line of a template file, adds a line to the README and a new file;
0.3.0 changes a default in the settings module (the line the conflict test also edits).
Each test generates its own service, commits it as a team would, and updates it.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import run_copy, run_update
from packaging.version import Version

from tests.answer_sets import DEFAULT
from tests.conftest import (
    TEMPLATE_ROOT,
    Completed,
    Service,
    copier_cli,
    git,
    install,
    snapshot_template,
)
from tests.test_generated_service import assert_suite_passed, text_files

pytestmark = [pytest.mark.generation, pytest.mark.lifecycle]

PRODUCT = {
    "domain": "catalog",
    "name": "product",
    "fields": "name:str(120), description:text?, price:decimal(10,2), in_stock:bool=true",
}
PURCHASE_ORDER = {
    "domain": "sales",
    "name": "purchase_order",
    "fields": "status:enum(draft|placed|shipped)=draft, placed_on:date?, notes:text?",
}
CATEGORY = {"domain": "catalog", "name": "category", "fields": "title:str(80), position:int=0"}
INVOICE = {"domain": "billing", "name": "invoice", "fields": "number:str(20):unique, total:int"}

PRODUCT_SERVICE = "src/shared/services/catalog_services/product_editor_service.py"
# What runs add-feature and update in a service: a dev-only script, not the service's CLI.
TEMPLATE_SCRIPT = "scripts/template.py"
PACKAGE = "src/inventory_service"
VERSIONS = f"{PACKAGE}/migrations/versions"
HEALTH_TEMPLATE = "template/src/{{ package_name }}/routers/health.py.jinja"
SETTINGS_TEMPLATE = "template/src/{{ package_name }}/settings.py.jinja"
OLD_HEALTH_DOC = '"""Answer 200 when the service can reach its database."""'
NEW_HEALTH_DOC = '"""Answer 200 once the service has reached its database."""'
RELEASE_NOTE = "Operations notes for this service live in `docs/operations.md`."
LIFETIME_SETTING = (
    "token_lifetime_minutes: int = Field(default=60, ge=1, le=MAX_TOKEN_LIFETIME_MINUTES)"
)
# Directories that are not part of a service's tree: git, the environment, tool caches.
NOT_THE_TREE = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in a file with ``new``."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new))


def commit_all(path: Path, message: str) -> None:
    """Commit every change of a work tree."""
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", message, cwd=path)


def release(template: Path, tag: str) -> None:
    """Commit the template's changes and tag them as a release."""
    commit_all(template, f"Release {tag}")
    git("tag", tag, cwd=template)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template released as 0.1.0, 0.2.0 and 0.3.0 in a git repository."""
    template = snapshot_template(tmp_path_factory.mktemp("releases") / "template", tag="0.1.0")
    edit(template / HEALTH_TEMPLATE, OLD_HEALTH_DOC, NEW_HEALTH_DOC)
    with (template / "template/README.md.jinja").open("a") as readme:
        readme.write(f"\n{RELEASE_NOTE}\n")
    docs = template / "template/docs"
    docs.mkdir(exist_ok=True)
    (docs / "operations.md").write_text("# Operations\n\nRestart the service after editing .env.\n")
    release(template, "0.2.0")
    edit(template / SETTINGS_TEMPLATE, "default=60, ge=1", "default=45, ge=1")
    release(template, "0.3.0")
    return template


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give in-process Copier calls a git identity, as clean_env() does for subprocesses."""
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "copier-backend-service tests")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tests@copier-backend-service.invalid")


def generate(
    releases: Path, path: Path, vcs_ref: str, features: list[dict[str, str]] | None = None
) -> Service:
    """Generate a service at a template release, install it and commit it, as a team would."""
    data: dict[str, Any] = {**DEFAULT, **({"features": features} if features else {})}
    run_copy(
        str(releases), path, data=data, vcs_ref=vcs_ref, defaults=True, unsafe=True, quiet=True
    )
    git("init", "-q", cwd=path)
    install(path)
    commit_all(path, f"Generate the service from template {vcs_ref}")
    return Service(path.name, path, answers_of(path))


def render_work_tree(destination: Path, data: dict[str, Any]) -> Path:
    """Render the template as the work tree has it, uncommitted edits included."""
    run_copy(
        str(TEMPLATE_ROOT),
        destination,
        data=data,
        vcs_ref="HEAD",
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    return destination


def answers_of(path: Path) -> dict[str, Any]:
    """The answers a service records."""
    answers: dict[str, Any] = yaml.safe_load((path / ".copier-answers.yml").read_text())
    return answers


def feature_names(path: Path) -> list[str]:
    """The names of the features a service records."""
    return [feature["name"] for feature in answers_of(path)["features"]]


def status(path: Path) -> str:
    """``git status --porcelain`` of a work tree."""
    return git("status", "--porcelain", cwd=path).stdout


def head(path: Path) -> str:
    """The commit a work tree is at."""
    return git("rev-parse", "HEAD", cwd=path).stdout.strip()


def leftover_conflicts(root: Path) -> list[str]:
    """Files holding conflict markers, and rejected hunks, found by reading the whole tree."""
    found = []
    for path in text_files(root):
        relative = path.relative_to(root).as_posix()
        lines = path.read_bytes().splitlines()
        marked = any(
            line.startswith((b"<<<<<<< ", b">>>>>>> ")) or line == b"=======" for line in lines
        )
        if marked or relative.endswith(".rej"):
            found.append(relative)
    return found


def tree(root: Path) -> dict[str, bytes]:
    """Every file of a service (not git's, not the environment's) with its content."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not NOT_THE_TREE & set(path.relative_to(root).parts)
    }


def assert_ok(result: Completed) -> None:
    """The command exited 0."""
    assert result.returncode == 0, result.explain()


def assert_gates_pass(service: Service) -> None:
    """The service passes its own tests, ruff check, ruff format --check and strict mypy."""
    assert_suite_passed(service.uv_run("pytest", "-q", "-p", "no:cacheprovider"))
    assert_ok(service.uv_run("ruff", "check", "."))
    assert_ok(service.uv_run("ruff", "format", "--check", "--diff", "."))
    checked = service.uv_run("mypy")
    assert_ok(checked)
    assert "Success: no issues found" in checked.stdout


def assert_tree_is_a_fresh_render(
    root: Path,
    template: Path,
    vcs_ref: str,
    features: list[dict[str, str]],
    team_edits: dict[str, tuple[str, str]] | None = None,
    team_files: tuple[str, ...] = (),
    made_by_running: tuple[str, ...] = (),
) -> None:
    """``root`` holds what a new service of ``features`` at ``vcs_ref`` holds, plus the edits.

    ``team_edits`` are edits of the template's files to make in the fresh render too;
    ``team_files`` are files the team wrote or edited, left out (the caller checks them);
    ``made_by_running`` files the service wrote (a SQLite database), left out too.

    How an update or add-feature reaches a tree is what these tests are about; whether such a
    tree passes its gates is what the answer sets' services (and one end-to-end test here)
    show. Not compared: ``.env`` (its secret is made per copy) and ``uv.lock`` (uv's file).
    """
    fresh = root.parent / f"{root.name}-fresh"
    data = {**DEFAULT, "features": features}
    run_copy(
        str(template), fresh, data=data, vcs_ref=vcs_ref, defaults=True, unsafe=True, quiet=True
    )
    for path, (old, new) in (team_edits or {}).items():
        edit(fresh / path, old, new)
    ours, theirs = tree(root), tree(fresh)
    for path in team_files:
        assert ours.pop(path, None) is not None, f"{path} is missing"
        theirs.pop(path, None)
    for path in made_by_running:
        assert ours.pop(path, None) is not None, f"{path} is missing"
    for made_per_copy in (".env", "uv.lock"):
        ours.pop(made_per_copy, None)
        theirs.pop(made_per_copy, None)
    assert sorted(ours) == sorted(theirs)
    assert [path for path in ours if ours[path] != theirs[path]] == []


def test_the_minimum_copier_version_covers_what_the_template_uses() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    template_paths = [path.as_posix() for path in (TEMPLATE_ROOT / "template").rglob("*")]
    assert any("{% yield " in path for path in template_paths)
    # `{% yield %}` in path names arrived in Copier 9.5.0; 9.4 can't even parse the template.
    assert Version(config["_min_copier_version"]) >= Version("9.5.0")
    # Tasks run several times per update (old copy, project, new copy). The one task (making
    # .env private) runs on copy only and is idempotent; the update test below checks .env.
    # `_copier_conf.os`, which keeps it off Windows, is in Copier 9.5.0's render context too.
    tasks = config.get("_tasks", [])
    assert [task["when"] for task in tasks] == [
        "{{ _copier_operation == 'copy' and _copier_conf.os != 'windows' }}"
    ]
    assert tasks[0]["command"] == ["chmod", "600", ".env"]


def test_a_new_feature_changes_the_shared_files_by_small_added_hunks(tmp_path: Path) -> None:
    renders = {}
    for label, features in [
        ("one", [PRODUCT]),
        ("new-domain", [PRODUCT, PURCHASE_ORDER]),
        ("same-domain", [PRODUCT, CATEGORY]),
    ]:
        data = {**DEFAULT, "features": features}
        renders[label] = tree(render_work_tree(tmp_path / label, data))
    # A new feature only adds lines to the files it shares with others: lists of features (the
    # registry's imports and modules, the set of revisions) take one line per feature, written
    # exploded even when there is one, so a second one never rewrites the first.
    rewritten: dict[str, list[str]] = {}
    for label in ("new-domain", "same-domain"):
        before, after = renders["one"], renders[label]
        assert set(before) <= set(after), "a new feature removed a file"
        for path in sorted(set(before) - {".env"}):
            old, new = before[path].decode().splitlines(), after[path].decode().splitlines()
            removed = [
                line[1:]
                for line in difflib.unified_diff(old, new, n=0, lineterm="")
                if line.startswith("-")
                and not line.startswith("---")
                # Each render of the work tree gets its own (dirty) template commit, and the
                # answers file's hash of the features changes with them.
                and not line.startswith(("-_commit: ", "-# features: "))
            ]
            if removed:
                rewritten[f"{label}: {path}"] = removed
    assert rewritten == {}
    # Each feature's migration is a file of its own: adding one never edits another.
    migrations = [path for path in renders["one"] if path.startswith(VERSIONS)]
    for label in ("new-domain", "same-domain"):
        assert all(renders[label][path] == renders["one"][path] for path in migrations)


def test_an_update_keeps_the_team_edits_and_brings_the_release_and_a_new_feature(
    releases: Path, tmp_path: Path
) -> None:
    service = generate(releases, tmp_path / "inventory-service", vcs_ref="0.1.0")
    root = service.path
    team_edits = {
        f"{PACKAGE}/settings.py": (
            '    log_format: Literal["auto", "json", "console"] = "auto"\n',
            '    log_format: Literal["auto", "json", "console"] = "auto"\n'
            "    # Shown on error pages; the team's own setting.\n"
            '    support_email: str = "support@example.com"\n',
        ),
        PRODUCT_SERVICE: (
            "    restore_product = AuditedEditorService.seed_restore\n",
            "    restore_product = AuditedEditorService.seed_restore\n\n"
            "    # How the admin console names several of them.\n"
            '    plural_noun = "products"\n',
        ),
        "tests/test_settings.py": (
            "assert STRONG_SECRET not in str(settings.model_dump())\n",
            "assert STRONG_SECRET not in str(settings.model_dump())\n\n\n"
            "def test_support_email_has_a_default() -> None:\n"
            '    settings = Settings(_env_file=None, environment="test", '
            "jwt_secret=SecretStr(STRONG_SECRET))\n"
            '    assert settings.support_email == "support@example.com"\n',
        ),
        "README.md": (
            "Requires [uv](https://docs.astral.sh/uv/).\n",
            "Requires [uv](https://docs.astral.sh/uv/). Ask the platform team for the\n"
            "production `DATABASE_URL`.\n",
        ),
    }
    for path, (old, new) in team_edits.items():
        edit(root / path, old, new)
    commit_all(root, "Team edits")
    env_file = root / ".env"
    secret_settings = env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600

    run_update(
        root,
        data={"features": [*service.answers["features"], PURCHASE_ORDER]},
        vcs_ref="0.2.0",
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )

    assert leftover_conflicts(root) == []
    for path, (_, new) in team_edits.items():
        assert new in (root / path).read_text(), f"the team's edit of {path} was lost"
    assert NEW_HEALTH_DOC in (root / f"{PACKAGE}/routers/health.py").read_text()
    assert RELEASE_NOTE in (root / "README.md").read_text()
    assert (root / "docs/operations.md").is_file()
    assert (root / f"{VERSIONS}/purchase_order_0001_initial.py").is_file()
    assert (root / "src/shared/db/models/sales_models/purchase_order.py").is_file()
    assert answers_of(root)["_commit"] == "0.2.0"
    assert feature_names(root) == ["product", "purchase_order"]
    assert env_file.read_text() == secret_settings
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    features = [*service.answers["features"], PURCHASE_ORDER]
    assert_tree_is_a_fresh_render(root, releases, "0.2.0", features, team_edits)


def test_features_are_added_one_update_at_a_time_without_leaving_the_template_version(
    releases: Path, tmp_path: Path
) -> None:
    service = generate(releases, tmp_path / "inventory-service", vcs_ref="0.1.0")
    for feature in (PURCHASE_ORDER, INVOICE):
        added = service.uv_run(
            TEMPLATE_SCRIPT,
            "add-feature",
            "--trust",
            feature["domain"],
            feature["name"],
            "--fields",
            feature["fields"],
        )
        assert_ok(added)
        assert "template version 0.1.0 (unchanged)" in added.stdout
        assert leftover_conflicts(service.path) == []
        commit_all(service.path, f"Add the {feature['name']} feature")
    root = service.path
    assert feature_names(root) == ["product", "purchase_order", "invoice"]
    for name in ("purchase_order", "invoice"):
        assert (root / f"{VERSIONS}/{name}_0001_initial.py").is_file()
    # add-feature re-renders at the recorded release: nothing of 0.2.0 came along.
    assert answers_of(root)["_commit"] == "0.1.0"
    assert not (root / "docs/operations.md").exists()
    assert OLD_HEALTH_DOC in (root / f"{PACKAGE}/routers/health.py").read_text()
    assert_tree_is_a_fresh_render(root, releases, "0.1.0", [PRODUCT, PURCHASE_ORDER, INVOICE])


def test_add_feature_gives_the_tree_plain_copier_update_gives(
    releases: Path, tmp_path: Path
) -> None:
    service = generate(releases, tmp_path / "inventory-service", vcs_ref="0.3.0")
    twin = tmp_path / "twin"
    git("clone", "-q", str(service.path), str(twin), cwd=tmp_path)
    # The clone lacks what git ignores; the secret in .env is the only thing that matters.
    shutil.copy2(service.path / ".env", twin / ".env")

    added = service.uv_run(
        TEMPLATE_SCRIPT,
        "add-feature",
        "--trust",
        "sales",
        "purchase_order",
        "--fields",
        PURCHASE_ORDER["fields"],
    )
    assert_ok(added)
    features = json.dumps([*service.answers["features"], PURCHASE_ORDER])
    assert_ok(
        copier_cli("update", "--trust", "--defaults", "--data", f"features={features}", cwd=twin)
    )

    ours, theirs = tree(service.path), tree(twin)
    assert sorted(ours) == sorted(theirs)
    assert [path for path in ours if ours[path] != theirs[path]] == []
    assert f"{VERSIONS}/purchase_order_0001_initial.py" in ours


def test_add_feature_refuses_a_duplicate_a_bad_spec_and_a_dirty_tree_and_changes_nothing(
    releases: Path, tmp_path: Path
) -> None:
    service = generate(releases, tmp_path / "inventory-service", vcs_ref="0.1.0")
    root = service.path
    before = head(root)

    duplicate = service.uv_run(
        TEMPLATE_SCRIPT, "add-feature", "--trust", "sales", "product", "--fields", "x:int"
    )
    assert duplicate.returncode == 2, duplicate.explain()
    assert "feature 'product' already exists (in domain 'catalog')" in duplicate.stderr

    bad_spec = service.uv_run(
        TEMPLATE_SCRIPT, "add-feature", "--trust", "sales", "invoice", "--fields", "total:money"
    )
    assert bad_spec.returncode == 2, bad_spec.explain()
    assert "field 'total': unknown type 'money'" in bad_spec.stderr

    bad_name = service.uv_run(
        TEMPLATE_SCRIPT, "add-feature", "--trust", "sales", "Invoice", "--fields", "n:int"
    )
    assert bad_name.returncode == 2, bad_name.explain()
    assert "feature #2 name 'Invoice' is not a snake_case identifier" in bad_name.stderr

    assert status(root) == ""
    assert head(root) == before
    assert feature_names(root) == ["product"]

    (root / "notes.txt").write_text("work in progress\n")
    dirty = service.uv_run(
        TEMPLATE_SCRIPT, "add-feature", "--trust", "sales", "invoice", "--fields", "n:int"
    )
    assert dirty.returncode == 2, dirty.explain()
    assert "uncommitted changes" in dirty.stderr
    assert "?? notes.txt" in dirty.stderr
    assert status(root) == "?? notes.txt\n"
    assert feature_names(root) == ["product"]


def test_update_reports_a_conflict_by_name_and_exits_non_zero(
    releases: Path, tmp_path: Path
) -> None:
    service = generate(releases, tmp_path / "inventory-service", vcs_ref="0.1.0")
    settings = service.path / f"{PACKAGE}/settings.py"
    # The team shortens token lifetimes; release 0.3.0 changes the same line.
    edit(settings, LIFETIME_SETTING, LIFETIME_SETTING.replace("default=60", "default=15"))
    commit_all(service.path, "Shorter tokens")

    updated = service.uv_run(TEMPLATE_SCRIPT, "update", "--trust")

    assert updated.returncode == 1, updated.explain()
    assert "template version 0.1.0 -> 0.3.0" in updated.stdout
    assert "the update left conflicts" in updated.stderr
    assert f"  {PACKAGE}/settings.py" in updated.stderr.splitlines()
    assert leftover_conflicts(service.path) == [f"{PACKAGE}/settings.py"]
    # The rest of the release arrived around the conflict.
    assert (service.path / "docs/operations.md").is_file()


def test_an_update_that_changes_nothing_leaves_the_work_tree_clean(
    releases: Path, tmp_path: Path
) -> None:
    service = generate(releases, tmp_path / "inventory-service", vcs_ref="0.3.0")
    before = head(service.path)

    updated = service.uv_run(TEMPLATE_SCRIPT, "update", "--trust")

    assert_ok(updated)
    assert updated.stdout.splitlines() == ["template version 0.3.0 (unchanged)", "nothing changed"]
    assert status(service.path) == ""
    assert head(service.path) == before

    downgrade = service.uv_run(TEMPLATE_SCRIPT, "update", "--trust", "--vcs-ref", "0.1.0")
    assert downgrade.returncode == 2, downgrade.explain()
    assert "Downgrades are not supported" in downgrade.stderr
    assert status(service.path) == ""

    dirty_file = service.path / "notes.txt"
    dirty_file.write_text("work in progress\n")
    refused = service.uv_run(TEMPLATE_SCRIPT, "update", "--trust", "--vcs-ref", "0.3.0")
    assert refused.returncode == 2, refused.explain()
    assert "commit or stash them first" in refused.stderr


def table_names(database: Path) -> set[str]:
    """The tables of a SQLite database."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}


def test_removing_a_feature_keeps_its_migrations_data_and_the_teams_edits_until_asked(
    releases: Path, tmp_path: Path
) -> None:
    service = generate(
        releases, tmp_path / "inventory-service", vcs_ref="0.1.0", features=[PRODUCT, CATEGORY]
    )
    root = service.path
    sqlite_file = tmp_path / "service.db"
    env = {"DATABASE_URL": f"sqlite:///{sqlite_file}"}
    assert_ok(service.uv_run(service.slug, "db", "upgrade", env=env))
    with sqlite3.connect(sqlite_file) as connection:
        connection.execute(
            "INSERT INTO category (id, version, created_at, updated_at, title, position) "
            "VALUES ('c-1', 1, '2025-01-01 00:00:00', '2025-01-01 00:00:00', 'Desks', 1)"
        )
    category_service = root / "src/shared/services/catalog_services/category_editor_service.py"
    category_service.write_text(category_service.read_text() + "\n# A rule of the team's.\n")
    commit_all(root, "A business rule for categories")
    migrations = {path.name: path.read_bytes() for path in (root / VERSIONS).glob("*.py")}

    remove = (TEMPLATE_SCRIPT, "remove-feature", "--trust", "catalog", "category")
    refused = service.uv_run(*remove)
    assert refused.returncode == 2, refused.explain()
    assert "hold edits of yours" in refused.stderr
    assert f"  {category_service.relative_to(root)}" in refused.stderr.splitlines()
    assert status(root) == ""

    assert_ok(service.uv_run(*remove, "--discard-edits"))
    assert leftover_conflicts(root) == []
    assert not category_service.exists()
    assert not (root / "src/inventory_service/routers/catalog_routers/category_router.py").exists()
    assert {path.name: path.read_bytes() for path in (root / VERSIONS).glob("*.py")} == migrations
    [category] = [item for item in answers_of(root)["features"] if item["name"] == "category"]
    assert category["removed"] == "keep-data"
    commit_all(root, "Remove the category feature")
    last = service.uv_run(TEMPLATE_SCRIPT, "remove-feature", "--trust", "catalog", "product")
    assert last.returncode == 2
    assert "the service's only feature" in last.stderr

    # Databases that applied its migration follow the history; the rows stay, out of the checks.
    upgraded = service.uv_run(service.slug, "db", "upgrade", env=env)
    assert_ok(upgraded)
    assert upgraded.stdout.startswith("already up to date")
    with sqlite3.connect(sqlite_file) as connection:
        assert connection.execute("SELECT title FROM category").fetchall() == [("Desks",)]
    assert_ok(service.uv_run(service.slug, "db", "check", env=env))
    assert_ok(service.uv_run("alembic", "check", env=env))
    fresh = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    assert_ok(service.uv_run(service.slug, "db", "upgrade", env=fresh))
    assert {"category", "category_audit"} <= table_names(tmp_path / "fresh.db")

    # Dropping the tables, later, is one more revision on the feature's branch.
    assert_ok(service.uv_run(*remove, "--drop-data"))
    assert "category_0002_drop_tables.py" in {path.name for path in (root / VERSIONS).iterdir()}
    assert_ok(service.uv_run(service.slug, "db", "upgrade", env=env))
    assert {"category", "category_audit"}.isdisjoint(table_names(sqlite_file))
    assert_ok(service.uv_run(service.slug, "db", "check", env=env))
    commit_all(root, "Drop the category tables")
    assert_ok(service.uv_run("ruff", "check", "."))
    assert_ok(service.uv_run("ruff", "format", "--check", "--diff", "."))
    checked = service.uv_run("mypy")
    assert_ok(checked)
    assert "Success: no issues found" in checked.stdout
    migration_tests = service.uv_run(
        "pytest", "-q", "-p", "no:cacheprovider", "tests/test_migrations.py"
    )
    assert_ok(migration_tests)
    assert " passed" in migration_tests.stdout
    assert not re.search(r"failed|error|skipped", migration_tests.stdout.splitlines()[-1])


def test_services_check_for_conflict_markers_before_every_commit(tmp_path: Path) -> None:
    service = render_work_tree(tmp_path / "svc", DEFAULT)
    config = yaml.safe_load((service / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    # Without --assume-in-merge the hook only looks while git is merging: a copier update isn't.
    assert "--assume-in-merge" in hooks["check-merge-conflict"]["args"]
    assert {"ruff-check", "ruff-format"} <= set(hooks)


# A business rule as a team writes one: a hook of its feature's thin editor service.
PRODUCT_RULE = (
    "    restore_product = AuditedEditorService.seed_restore\n",
    "    restore_product = AuditedEditorService.seed_restore\n\n"
    "    def validate_create(self, values: dict[str, Any], user: MinimalUser) -> None:\n"
    '        """A product\'s name holds a letter (the team\'s rule)."""\n'
    '        if not any(character.isalpha() for character in values["name"]):\n'
    '            msg = "a product name needs a letter"\n'
    "            raise ConflictError(msg)\n",
)
# Each import goes before the line of a module the service imports from, however that line
# is wrapped.
PRODUCT_RULE_IMPORTS = (
    "from shared.db.models.audit_models.product_audit import ",
    "from typing import Any\n\nfrom shared.db.models.audit_models.product_audit import ",
    "from shared.models.catalog_models.product_dtos import ",
    "from shared.errors import ConflictError\n"
    "from shared.models.catalog_models.product_dtos import ",
    "from shared.services.audited_editor_service import ",
    "from shared.models.minimal_user import MinimalUser\n"
    "from shared.services.audited_editor_service import ",
)
PRODUCT_RULE_TEST = """

def test_a_product_name_needs_a_letter(client: TestClient, auth_headers: dict[str, str]) -> None:
    body = {**new_product(), "name": "1234"}
    response = client.post("/catalog/products", json=body, headers=auth_headers)
    assert response.status_code == 409
    assert "needs a letter" in response.json()["detail"]
"""
# The team's files of the purchase order (tests/team_code), where the service has them.
TEAM_CODE = Path(__file__).parent / "team_code"
PURCHASE_ORDER_TEAM_FILES = (
    "src/shared/services/sales_services/purchase_order_editor_service.py",
    f"{PACKAGE}/routers/sales_routers/purchase_order_router.py",
    "tests/features/test_purchase_order.py",
)
AUDITED_SERVICE_TEMPLATE = "template/src/shared/services/audited_editor_service.py"
OLD_DESCRIPTION = "description = f\"{description}: {', '.join(changes)}\""
NEW_DESCRIPTION = "description = f\"{description} ({', '.join(changes)})\""


def test_a_release_that_changes_the_shared_core_touches_no_feature_file(tmp_path: Path) -> None:
    template = snapshot_template(tmp_path / "template", tag="0.1.0")
    features = [PRODUCT, CATEGORY, PURCHASE_ORDER]
    service = generate(template, tmp_path / "shop-service", vcs_ref="0.1.0", features=features)
    root = service.path
    # The team's business rule and its test, in the product's own files.
    service_file = root / PRODUCT_SERVICE
    edit(service_file, *PRODUCT_RULE)
    edit(service_file, *PRODUCT_RULE_IMPORTS[:2])
    edit(service_file, *PRODUCT_RULE_IMPORTS[2:4])
    edit(service_file, *PRODUCT_RULE_IMPORTS[4:])
    with (root / "tests/features/test_product.py").open("a") as tests:
        tests.write(PRODUCT_RULE_TEST)
    # The purchase order's rules, a command of its own, its routes and their tests.
    for path in PURCHASE_ORDER_TEAM_FILES:
        shutil.copyfile(TEAM_CODE / Path(path).name, root / path)
    commit_all(root, "Team edits: a product rule, purchase orders placed, and their tests")
    team_files = {
        path: (root / path).read_bytes()
        for path in (PRODUCT_SERVICE, "tests/features/test_product.py", *PURCHASE_ORDER_TEAM_FILES)
    }
    # A release that changes how every feature's audit rows describe an update.
    edit(template / AUDITED_SERVICE_TEMPLATE, OLD_DESCRIPTION, NEW_DESCRIPTION)
    release(template, "0.2.0")

    assert_ok(service.uv_run(TEMPLATE_SCRIPT, "update", "--trust"))

    changed = git("diff", "--name-only", "HEAD", cwd=root).stdout.split()
    assert sorted(changed) == [
        ".copier-answers.yml",
        "src/shared/services/audited_editor_service.py",
    ]
    for path, content in team_files.items():
        assert (root / path).read_bytes() == content
    assert leftover_conflicts(root) == []
    # The rest is a new service of release 0.2.0: its gates, and the contract suite and tests
    # of the feature whose rule the team wrote, which now run on the changed core.
    assert_tree_is_a_fresh_render(root, template, "0.2.0", features, team_files=tuple(team_files))
    assert_ok(service.uv_run("ruff", "check", "."))
    assert_ok(service.uv_run("ruff", "format", "--check", "--diff", "."))
    checked = service.uv_run("mypy")
    assert_ok(checked)
    assert "Success: no issues found" in checked.stdout
    # The features the team wrote code for: their own tests, the contract suite (every hook and
    # a command of the suite's own), the fuzzing of the team's routes, and the checks of every
    # operation (the team's included) in the document and on the wire.
    team_tests = (
        "tests/features",
        "tests/contract",
        "tests/test_api_properties.py",
        "tests/test_openapi_document.py",
        "-k",
        "product or purchase_order or teams_own or exercised or test_openapi_document"
        " or query_parameter",
    )
    assert_suite_passed(service.uv_run("pytest", "-q", "-p", "no:cacheprovider", *team_tests))
