"""Updates never lose a file and never run template code without consent.

Release 0.1.0's README generated its demo inside the template's clone, which ignored it; the
demo's own `add-feature` then deleted most of its files. These tests walk that path and the
README's current one from a clone, as a new user would, with the README's commands as written;
then they point a service at a template that runs a task, and at a template that moved.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from copier import run_copy

from tests.answer_sets import DEFAULT
from tests.conftest import TEMPLATE_ROOT, Completed, clean_env, git, run, snapshot_template, uv
from tests.live_service import wait_until_healthy
from tests.test_update_lifecycle import (
    INVOICE,
    PRODUCT,
    TEMPLATE_SCRIPT,
    answers_of,
    assert_tree_is_a_fresh_render,
    commit_all,
    generate,
    head,
    status,
    tree,
)

# Each test generates services and updates them: minutes, like the lifecycle tier.
pytestmark = [pytest.mark.generation, pytest.mark.lifecycle]

README = TEMPLATE_ROOT / "README.md"
# The port the README's demo serves on (the service's default).
DEMO_URL = "http://127.0.0.1:8000"
# The README's add-feature, as `uv run` arguments.
ADD_INVOICE = (
    TEMPLATE_SCRIPT,
    "add-feature",
    "billing",
    "invoice",
    "--trust",
    "--fields",
    INVOICE["fields"],
)
INVOICE_FILES = (
    "src/shared/services/billing_services/invoice_editor_service.py",
    "src/inventory_service/migrations/versions/invoice_0001_initial.py",
    "tests/features/test_invoice.py",
)


def readme_line(*fragments: str) -> str:
    """The one command line of the template's README that holds every one of ``fragments``."""
    lines = [
        line
        for line in README.read_text().splitlines()
        if all(fragment in line for fragment in fragments) and not line.startswith(("#", "`"))
    ]
    assert len(lines) == 1, f"the README has {len(lines)} command lines with {fragments}"
    return lines[0]


def shell(command: str, cwd: Path) -> Completed:
    """Run a README command line with bash, as a user pastes it."""
    return run(["bash", "-c", command], cwd=cwd)


def clone_of_the_template(destination: Path) -> Path:
    """The template as a user's clone has it: README and .gitignore included, tagged."""
    snapshot_template(destination)
    for name in ("README.md", ".gitignore"):
        shutil.copy2(TEMPLATE_ROOT / name, destination / name)
    commit_all(destination, "README and .gitignore")
    git("tag", "-f", "0.1.0", cwd=destination)
    return destination


def serve_the_demo(command: str, cwd: Path, log: Path) -> None:
    """Run the README's demo command until the service answers, then stop it."""
    with log.open("w") as output:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=clean_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            wait_until_healthy(DEMO_URL, process)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def test_the_readme_demo_keeps_every_file_through_add_feature(tmp_path: Path) -> None:
    clone = clone_of_the_template(tmp_path / "copier-backend-service")
    demo = readme_line("uvx ", "copier copy", "../demo-service", "serve")
    commit = readme_line("git init -q && git add -A && git commit")
    add_feature = readme_line(f"uv run {TEMPLATE_SCRIPT} add-feature billing invoice")
    assert "--trust" in add_feature

    serve_the_demo(demo, cwd=clone, log=tmp_path / "demo.log")
    service = tmp_path / "demo-service"
    assert (service / "pyproject.toml").is_file(), "the demo is generated beside the clone"
    assert status(clone) == "", "the demo left nothing in the clone"

    assert shell(commit, cwd=service).returncode == 0
    before = tree(service)
    added = shell(add_feature, cwd=service)

    assert added.returncode == 0, added.explain()
    after = tree(service)
    assert set(before) - set(after) == set(), "no file of the service went missing"
    for path in INVOICE_FILES:
        assert path in after
    # What the demo and add-feature made is a new two-feature service of the clone's release
    # (whose kind of tree the answer sets' gates and the lifecycle tests cover), plus the
    # database the demo served from.
    assert_tree_is_a_fresh_render(
        service, clone, "0.1.0", [PRODUCT, INVOICE], made_by_running=("inventory_service.db",)
    )


def test_a_demo_inside_the_clone_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    clone = clone_of_the_template(tmp_path / "copier-backend-service")
    # Release 0.1.0's README path: the service inside the clone (even when the clone's
    # .gitignore hides it, as 0.1.0's did).
    with (clone / ".gitignore").open("a") as ignore:
        ignore.write("/demo-service/\n")
    commit_all(clone, "Ignore the demo, as 0.1.0 did")
    copied = shell(
        "uvx --with copier-template-extensions --with inflect --with ruff "
        'copier copy --trust --defaults "$PWD" demo-service',
        cwd=clone,
    )
    assert copied.returncode == 0, copied.explain()
    service = clone / "demo-service"
    before = tree(service)

    refused = run(
        [uv(), "run", *ADD_INVOICE],
        cwd=service,
    )

    assert refused.returncode == 2, refused.explain()
    assert "not the top of its own" in refused.stderr
    after = tree(service)
    assert set(after) - set(before) == {"uv.lock"}  # `uv run` wrote it, not the update
    assert {path: after[path] for path in before} == before


def test_a_committed_service_run_once_with_uv_accepts_add_feature(tmp_path: Path) -> None:
    service = tmp_path / "inventory-service"
    run_copy(
        str(clone_of_the_template(tmp_path / "template")),
        service,
        data=DEFAULT,
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    git("init", "-q", cwd=service)
    commit_all(service, "Generate the service")
    # The first `uv run` writes uv.lock: an untracked file, written by uv.
    first_run = run([uv(), "run", "inventory-service", "--help"], cwd=service)
    assert first_run.returncode == 0, first_run.explain()
    assert status(service) == "?? uv.lock\n"

    added = run(
        [uv(), "run", *ADD_INVOICE],
        cwd=service,
    )

    assert added.returncode == 0, added.explain()
    assert (service / INVOICE_FILES[0]).is_file()


def release_a_change(template: Path, tag: str, task: str = "") -> None:
    """Release ``tag`` of ``template``: a README line, and one more task if ``task`` is given."""
    with (template / "template/README.md.jinja").open("a") as readme:
        readme.write(f"\nReleased as {tag}.\n")
    if task:
        config = template / "copier.yml"
        text = config.read_text()
        assert text.count("\n_tasks:\n") == 1, "the template's own task list"
        config.write_text(text.replace("\n_tasks:\n", f"\n_tasks:\n  - {task}\n"))
    commit_all(template, f"Release {tag}")
    git("tag", tag, cwd=template)


def test_update_without_trust_runs_no_task_and_names_the_source(tmp_path: Path) -> None:
    template = clone_of_the_template(tmp_path / "template")
    service = generate(template, tmp_path / "inventory-service", vcs_ref="0.1.0")
    # A change to the template's repository, merged later: its next release runs a task.
    changed = tmp_path / "changed-template"
    git("clone", "-q", str(template), str(changed), cwd=tmp_path)
    marker = tmp_path / "task-ran"
    release_a_change(changed, "0.2.0", task=f"touch {marker}")
    answers_file = service.path / ".copier-answers.yml"
    answers_file.write_text(answers_file.read_text().replace(str(template), str(changed)))
    commit_all(service.path, "A one-line change that points the service at another template")
    before = head(service.path)

    refused = service.uv_run(TEMPLATE_SCRIPT, "update")

    assert refused.returncode == 2, refused.explain()
    assert f"the template at {changed} runs code of its own" in refused.stderr
    assert "run again with --trust" in refused.stderr
    assert not marker.exists()
    assert status(service.path) == ""
    assert head(service.path) == before

    trusted = service.uv_run(TEMPLATE_SCRIPT, "update", "--trust")
    assert trusted.returncode == 0, trusted.explain()
    assert f"trusting the template at {changed}" in trusted.stderr
    assert marker.exists(), "with --trust the same update runs the task"


def test_update_src_follows_a_template_that_moved(tmp_path: Path) -> None:
    old_home = clone_of_the_template(tmp_path / "old-home")
    service = generate(old_home, tmp_path / "inventory-service", vcs_ref="0.1.0")
    release_a_change(old_home, "0.2.0")
    new_home = tmp_path / "new-home"
    old_home.rename(new_home)

    lost = service.uv_run(TEMPLATE_SCRIPT, "update", "--trust")
    assert lost.returncode == 2, lost.explain()
    assert status(service.path) == ""

    moved = service.uv_run(TEMPLATE_SCRIPT, "update", "--trust", "--src", str(new_home))

    assert moved.returncode == 0, moved.explain()
    assert "template version 0.1.0 -> 0.2.0" in moved.stdout
    recorded = answers_of(service.path)
    assert recorded["_src_path"] == str(new_home)
    assert recorded["_commit"] == "0.2.0"
    assert "Released as 0.2.0." in (service.path / "README.md").read_text()
