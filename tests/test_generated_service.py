"""Generated services: the seed's files at the seed's paths, no Jinja left, every gate green."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.answer_sets import ANSWER_SETS
from tests.conftest import Completed, Service

pytestmark = pytest.mark.generation

ServiceFactory = Callable[[str], Service]

# The seed's src/shared tree for domain "catalog" and feature "product".
SEED_PATHS = [
    "src/shared/__init__.py",
    "src/shared/models/__init__.py",
    "src/shared/models/minimal_user.py",
    "src/shared/services/__init__.py",
    "src/shared/services/catalog_services/__init__.py",
    "src/shared/services/catalog_services/product_editor_service.py",
    "src/shared/logging/__init__.py",
    "src/shared/logging/logger.py",
    "src/shared/db/models/base_model.py",
    "src/shared/db/models/audit_models/__init__.py",
    "src/shared/db/models/audit_models/audit_enums.py",
    "src/shared/db/models/audit_models/product_audit.py",
    "src/shared/db/repositories/audit_repository/__init__.py",
    "src/shared/db/repositories/audit_repository/product_audit_repository.py",
]
JINJA_MARKERS = ("{{", "{%", "{#", "%}", "#}")
GITHUB_EXPRESSION = re.compile(r"\$\{\{[^{}]*\}\}")


def text_files(root: Path) -> list[Path]:
    """The generated files, without the installed environment and caches."""
    skipped = {".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
    skipped.add("__pycache__")
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file() and not skipped & set(path.relative_to(root).parts)
    ]


def assert_suite_passed(result: Completed) -> None:
    """A generated suite's run passed: 20 or more tests, none failed, skipped or erroring."""
    assert result.returncode == 0, result.explain()
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None, summary
    assert int(passed.group(1)) >= 20, summary
    assert not re.search(r"failed|error|skipped|xfail", summary), summary


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_service_passes_its_own_test_suite(service: ServiceFactory, name: str) -> None:
    assert_suite_passed(service(name).uv_run("pytest", "-q", "-p", "no:cacheprovider"))


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_service_passes_ruff_check(service: ServiceFactory, name: str) -> None:
    result = service(name).uv_run("ruff", "check", ".")
    assert result.returncode == 0, result.explain()


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_service_is_formatted_as_ruff_formats_it(service: ServiceFactory, name: str) -> None:
    result = service(name).uv_run("ruff", "format", "--check", "--diff", ".")
    assert result.returncode == 0, result.explain()


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_service_passes_strict_mypy(service: ServiceFactory, name: str) -> None:
    result = service(name).uv_run("mypy")
    assert result.returncode == 0, result.explain()
    assert "Success: no issues found" in result.stdout


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_no_jinja_is_left_in_the_output(service: ServiceFactory, name: str) -> None:
    root = service(name).path
    files = text_files(root)
    assert files
    for path in files:
        relative = path.relative_to(root).as_posix()
        assert not relative.endswith(".jinja"), relative
        assert not any(marker in relative for marker in JINJA_MARKERS), relative
        # GitHub Actions expressions (${{ matrix.python }}) are meant to be in the output.
        content = GITHUB_EXPRESSION.sub("", path.read_text(encoding="utf-8"))
        leftovers = [marker for marker in ("{{", "{%", "{#") if marker in content]
        assert not leftovers, f"{relative} still holds {leftovers}"


@pytest.mark.answer_set("default")
def test_the_default_service_has_the_seed_files_at_the_seed_paths(
    service: ServiceFactory,
) -> None:
    root = service("default").path
    missing = [path for path in SEED_PATHS if not (root / path).is_file()]
    assert not missing
    enums = (root / "src/shared/db/models/audit_models/audit_enums.py").read_text()
    assert "class ProductAuditActionCodeEnum(StrEnum):" in enums
    for action in ("CREATED", "UPDATED", "DELETED", "RESTORED"):
        assert f'PRODUCT_{action} = "PRODUCT_{action}"' in enums
    audit = (root / "src/shared/db/models/audit_models/product_audit.py").read_text()
    assert "class ProductAudit(AuditBase, BaseDBModelMixin, table=True):" in audit
    assert 'product_id: str = entity_reference("product")' in audit
    # The seed's audit id was never generated: every audit table's comes from AuditBase.
    audit_base = (root / "src/shared/db/models/audit_models/audit_base.py").read_text()
    assert "id: str = Field(default_factory=new_id, primary_key=True" in audit_base
    assert 'Field(foreign_key=f"{table}.id"' in audit_base
    repository = (
        root / "src/shared/db/repositories/audit_repository/product_audit_repository.py"
    ).read_text()
    assert "class ProductAuditRepository(AuditRepository[ProductAudit]):" in repository
    assert "get_by_product_id = AuditRepository.get_trail" in repository
    editor = (root / "src/shared/services/catalog_services/product_editor_service.py").read_text()
    assert "create_product = AuditedEditorService.seed_create" in editor
    logger = (root / "src/shared/logging/logger.py").read_text()
    assert "setLevel" not in logger.split("def configure_logging")[0]
    assert "addHandler" not in logger.split("def configure_logging")[0]


@pytest.mark.answer_set("default")
def test_the_answers_are_recorded_for_updates(service: ServiceFactory) -> None:
    answers = service("default").answers
    assert answers["project_slug"] == "inventory-service"
    assert answers["package_name"] == "inventory_service"
    assert answers["features"] == [
        {
            "domain": "catalog",
            "name": "product",
            "fields": "name:str(120), description:text?, price:decimal(10,2), in_stock:bool=true",
        }
    ]
    assert "_commit" in answers
    assert Path(answers["_src_path"]).is_absolute()


@pytest.mark.answer_set("several-features")
def test_several_features_in_several_domains_each_get_their_files(
    service: ServiceFactory,
) -> None:
    shop = service("several-features")
    root = shop.path
    for domain, feature in [
        ("catalog", "product"),
        ("catalog", "category"),
        ("sales", "purchase_order"),
    ]:
        for path in (
            f"src/shared/services/{domain}_services/{feature}_editor_service.py",
            f"src/shared/db/models/{domain}_models/{feature}.py",
            f"src/shared/db/models/audit_models/{feature}_audit.py",
            f"src/shared/db/repositories/audit_repository/{feature}_audit_repository.py",
            f"src/shared/db/repositories/{domain}_repository/{feature}_repository.py",
            f"src/shared/models/{domain}_models/{feature}_dtos.py",
            f"src/shop_service/routers/{domain}_routers/{feature}_router.py",
            f"tests/features/test_{feature}.py",
        ):
            assert (root / path).is_file(), path
    enums = (root / "src/shared/db/models/audit_models/audit_enums.py").read_text()
    assert enums.count("(StrEnum):") == 3
    assert 'PURCHASE_ORDER_RESTORED = "PURCHASE_ORDER_RESTORED"' in enums
    registry = (root / "src/shop_service/features.py").read_text()
    for router in ("product_router,", "category_router,", "purchase_order_router,"):
        assert router in registry
    assert not (root / "src/shared/services/sales_services/product_editor_service.py").exists()
