"""A service generated from release 0.1.0 and edited by its team, upgraded to this release.

Release 0.1.0 is commit 50e1619 of this repository (tags don't travel with clones); the work
tree is the release after it, tagged 0.2.0 here. In 0.1.0 a feature's business rules lived in
its editor service and its tests in ``tests/api`` and ``tests/services``: files whose role
changed. The team's edits go through "Upgrading a 0.1.0 service" in CHANGELOG.md, run step
by step with the commands a team types; an edit of a file whose role did not change (the
README) comes through the update as it is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import TEMPLATE_PARTS, TEMPLATE_ROOT, Completed, Service, git, run
from tests.test_update_lifecycle import (
    assert_gates_pass,
    assert_ok,
    commit_all,
    edit,
    generate,
    leftover_conflicts,
    release,
)

pytestmark = [pytest.mark.generation, pytest.mark.lifecycle]

RELEASE_0_1_0 = "50e1619"
SLUG = "inventory-service"
EDITOR_SERVICE = "src/shared/services/catalog_services/product_editor_service.py"
OLD_API_TESTS = "tests/api/test_product_api.py"
OLD_SERVICE_TESTS = "tests/services/test_product_editor_service.py"
FEATURE_TESTS = "tests/features/test_product.py"
CHANGELOG_HEADING = "### Upgrading a 0.1.0 service"
# The procedure's commands, as CHANGELOG.md spells them (checked against it below).
SET_ASIDE = "git tag before-upgrade"
UPDATE = (
    "uvx --with copier-template-extensions --with inflect --with ruff "
    "copier update --trust --defaults"
)
TAKE_THE_RELEASE = "git checkout --theirs -- "
README_EDIT = (
    "Requires [uv](https://docs.astral.sh/uv/).\n",
    "Requires [uv](https://docs.astral.sh/uv/). Ask the platform team for the\n"
    "production `DATABASE_URL`.\n",
)
# The team's business rule and its test, as written into the 0.1.0 files.
RULE_TEST_NAME = "test_a_price_above_the_limit_is_refused"
RULE_TEST = f"""

def {RULE_TEST_NAME}(
    client: TestClient, auth_headers: dict[str, str], session: Session
) -> None:
    at_limit = {{**new_product(1), "price": "1000.00"}}
    assert client.post("/catalog/products", json=at_limit, headers=auth_headers).status_code == 201
    above = {{**new_product(2), "price": "1000.01"}}
    response = client.post("/catalog/products", json=above, headers=auth_headers)
    assert response.status_code == 409, response.text
    # The refusal wrote nothing: one product and one audit row, both the first create's.
    assert [product.price for product in session.exec(select(Product))] == [Decimal(1000)]
    assert len(session.exec(select(ProductAudit)).all()) == 1
"""
RULE_TEST_IMPORTS = (
    "from sqlmodel import Session, select\n",
    "from shared.db.models.audit_models.product_audit import ProductAudit\n"
    "from shared.db.models.catalog_models.product import Product\n",
)


def build_releases(template: Path) -> Path:
    """The template as released in 0.1.0 (commit 50e1619), then as the work tree has it."""
    found = run(["git", "cat-file", "-e", f"{RELEASE_0_1_0}^{{commit}}"], cwd=TEMPLATE_ROOT)
    if found.returncode != 0:
        pytest.fail(
            f"release 0.1.0 is commit {RELEASE_0_1_0}, which this clone does not have: "
            "clone with the full history of main (git fetch --unshallow)"
        )
    template.mkdir(parents=True)
    archive = template.parent / "0.1.0.tar"
    git("archive", "-o", str(archive), RELEASE_0_1_0, *TEMPLATE_PARTS, cwd=TEMPLATE_ROOT)
    assert_ok(run(["tar", "-xf", str(archive), "-C", str(template)], cwd=template.parent))
    git("init", "-q", "-b", "main", cwd=template)
    release(template, "0.1.0")
    for part in TEMPLATE_PARTS:
        (shutil.rmtree if (template / part).is_dir() else Path.unlink)(template / part)
        source = TEMPLATE_ROOT / part
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(source, template / part, ignore=ignore)
        else:
            shutil.copy2(source, template / part)
    release(template, "0.2.0")
    return template


def procedure() -> str:
    """The section of CHANGELOG.md that a team follows."""
    text = (TEMPLATE_ROOT / "CHANGELOG.md").read_text()
    assert CHANGELOG_HEADING in text, f"CHANGELOG.md has no {CHANGELOG_HEADING!r}"
    section = text.split(CHANGELOG_HEADING, 1)[1]
    return section.split("\n## ", 1)[0].split("\n### ", 1)[0]


def team_edits(root: Path) -> None:
    """What a team did in its 0.1.0 service: a business rule, its test, a README line."""
    edit(
        root / EDITOR_SERVICE,
        "from contextlib import contextmanager\n",
        "from contextlib import contextmanager\nfrom decimal import Decimal\n",
    )
    edit(
        root / EDITOR_SERVICE,
        'NOUN = "product"\n',
        'NOUN = "product"\n# The catalog sells nothing above this price.\n'
        'MAX_PRICE = Decimal("1000")\n',
    )
    edit(
        root / EDITOR_SERVICE,
        "            values = data.model_dump()\n",
        "            values = data.model_dump()\n"
        '            if values["price"] > MAX_PRICE:\n'
        '                msg = f"a {NOUN} costs at most {MAX_PRICE}"\n'
        "                raise ConflictError(msg)\n",
    )
    api_tests = root / OLD_API_TESTS
    edit(
        api_tests,
        "from typing import Any\n",
        "from decimal import Decimal\nfrom typing import Any\n",
    )
    edit(
        api_tests,
        "from fastapi.testclient import TestClient\n",
        "from fastapi.testclient import TestClient\n" + RULE_TEST_IMPORTS[0],
    )
    edit(
        api_tests, "    WRITE_PERMISSION,\n)\n", "    WRITE_PERMISSION,\n)\n" + RULE_TEST_IMPORTS[1]
    )
    with api_tests.open("a") as tests:
        tests.write(RULE_TEST)
    edit(root / "README.md", *README_EDIT)


def sh(service: Service, command: str) -> Completed:
    """Run one of the procedure's commands in the service, as a shell would split it."""
    return run(command.split(), cwd=service.path)


def test_a_0_1_0_service_keeps_its_edits_through_the_documented_upgrade(
    tmp_path: Path,
) -> None:
    steps = procedure()
    for command in (SET_ASIDE, UPDATE, TAKE_THE_RELEASE.strip(), "uv sync"):
        assert command in steps, f"the procedure no longer says `{command}`"
    template = build_releases(tmp_path / "template")
    service = generate(template, tmp_path / SLUG, vcs_ref="0.1.0")
    root = service.path
    assert (root / f"src/{service.answers['package_name']}/lifecycle.py").is_file()
    # A database the team runs at 0.1.0, to upgrade along with the code.
    assert_ok(service.uv_run(SLUG, "db", "upgrade"))
    team_edits(root)
    assert_ok(service.uv_run("pytest", "-q", "-p", "no:cacheprovider", OLD_API_TESTS))
    assert_ok(service.uv_run("ruff", "check", "."))
    assert_ok(service.uv_run("ruff", "format", "--check", "."))
    commit_all(root, "A price limit for products")

    # 1. Set the edits aside: the tag keeps the 0.1.0 files readable.
    assert_ok(sh(service, SET_ASIDE))
    # 2. Update.
    uvx = shutil.which("uvx")
    assert uvx is not None, "uvx comes with uv; the procedure runs Copier with it"
    updated = run([uvx, *UPDATE.split()[1:]], cwd=root)
    assert_ok(updated)
    unmerged = git("diff", "--name-only", "--diff-filter=U", cwd=root).stdout.split()
    assert unmerged == [EDITOR_SERVICE], updated.explain()
    deleted = git("ls-files", "--deleted", cwd=root).stdout.split()
    assert sorted(deleted) == sorted(
        [OLD_API_TESTS, OLD_SERVICE_TESTS, "src/inventory_service/lifecycle.py"]
    )
    # 3. Take the release's editor service.
    assert_ok(run([*TAKE_THE_RELEASE.split(), EDITOR_SERVICE], cwd=root))
    assert "AuditedEditorService[" in (root / EDITOR_SERVICE).read_text()
    # 4. Port the rule to the hook, reading it from the tag.
    old_service = git("show", f"before-upgrade:{EDITOR_SERVICE}", cwd=root).stdout
    assert 'if values["price"] > MAX_PRICE:' in old_service
    port_the_rule(root / EDITOR_SERVICE)
    # 5. Move the team's test, with its imports, into the feature's own test file.
    old_tests = git("show", f"before-upgrade:{OLD_API_TESTS}", cwd=root).stdout
    moved = old_tests[old_tests.index(f"\n\ndef {RULE_TEST_NAME}(") :]
    feature_tests = root / FEATURE_TESTS
    edit(
        feature_tests,
        "from fastapi.testclient import TestClient\n",
        "from decimal import Decimal\n\nfrom fastapi.testclient import TestClient\n"
        + RULE_TEST_IMPORTS[0],
    )
    edit(
        feature_tests,
        "from factories import new_product\n",
        "from factories import new_product\n" + RULE_TEST_IMPORTS[1],
    )
    with feature_tests.open("a") as tests:
        tests.write(moved)
    # 6. Install, migrate, check, commit.
    assert_ok(sh(service, "uv sync"))
    migrated = service.uv_run(SLUG, "db", "upgrade")
    assert_ok(migrated)
    # The migrations since 0.1.0: the caller_request_id column of every audit table (0.2.0),
    # the hash chain's columns and the change feed's position and index (issue 12), then the
    # list indexes that keyset pages read (issue 10), then action codes open to a feature's
    # own commands (issue 24), then the list of audit rows older than the chain's second hash
    # form (issue 25).
    applied = "applied: shared_0001, shared_0002, shared_0003, shared_0004, shared_0005"
    assert migrated.stdout.strip() == applied, migrated.explain()
    assert_ok(service.uv_run(SLUG, "db", "check"))

    assert leftover_conflicts(root) == []
    assert README_EDIT[1] in (root / "README.md").read_text()
    rule = service.uv_run("pytest", "-q", "-p", "no:cacheprovider", FEATURE_TESTS, "-k", "price")
    assert_ok(rule)
    assert "1 passed" in rule.stdout, rule.explain()
    assert_gates_pass(service)
    commit_all(root, "Template 0.2.0, the price limit in the editor service's hook")
    assert git("status", "--porcelain", cwd=root).stdout == ""


def port_the_rule(path: Path) -> None:
    """The price limit as the thin editor service's ``validate_create`` hook."""
    edit(
        path,
        '"""\n\nfrom shared.db.models.audit_models',
        '"""\n\nfrom decimal import Decimal\nfrom typing import Any\n\n'
        "from shared.db.models.audit_models",
    )
    edit(
        path,
        "from shared.models.catalog_models.product_dtos import ",
        "from shared.errors import ConflictError\n"
        "from shared.models.catalog_models.product_dtos import ",
    )
    edit(
        path,
        "from shared.services.audited_editor_service import ",
        "from shared.models.minimal_user import MinimalUser\n"
        "from shared.services.audited_editor_service import ",
    )
    edit(
        path,
        "\n\nclass ProductEditorService(",
        '\n# The catalog sells nothing above this price.\nMAX_PRICE = Decimal("1000")\n'
        "\n\nclass ProductEditorService(",
    )
    with path.open("a") as service:
        service.write(
            "\n"
            "    def validate_create(self, values: dict[str, Any], user: MinimalUser) -> None:\n"
            '        """Refuse a price above ``MAX_PRICE``."""\n'
            '        if values["price"] > MAX_PRICE:\n'
            '            msg = f"a product costs at most {MAX_PRICE}"\n'
            "            raise ConflictError(msg)\n"
        )
