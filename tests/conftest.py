"""Shared fixtures: generated services (made once per test session) and a command runner."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.answer_sets import ANSWER_SETS

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
# Generated services install their own dependencies; a cold cache downloads them once.
COMMAND_TIMEOUT = 900


@dataclass(frozen=True)
class Completed:
    """A finished command: its exit code, output and how long it took."""

    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def explain(self) -> str:
        """Everything needed to understand a failure, for assertion messages."""
        return (
            f"$ {' '.join(self.args)}\nexit {self.returncode} after {self.seconds:.1f}s\n"
            f"--- stdout\n{self.stdout[-6000:]}\n--- stderr\n{self.stderr[-6000:]}"
        )


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a generated service's commands, without this project's venv."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.update({"NO_COLOR": "1", "UV_NO_PROGRESS": "1"})
    # Tests commit to throwaway repositories; a machine without a git identity must not matter.
    for role in ("AUTHOR", "COMMITTER"):
        env.setdefault(f"GIT_{role}_NAME", "copier-backend-service tests")
        env.setdefault(f"GIT_{role}_EMAIL", "tests@copier-backend-service.invalid")
    env.update(extra or {})
    return env


def run(
    args: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT,
) -> Completed:
    """Run a command to completion and capture what it printed."""
    started = time.perf_counter()
    completed = subprocess.run(
        list(args),
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Completed(
        args=list(args),
        returncode=completed.returncode,
        stdout=completed.stdout,
        stderr=completed.stderr,
        seconds=time.perf_counter() - started,
    )


def copier_cli(*args: str, cwd: Path) -> Completed:
    """Run the Copier command line of this environment."""
    return run([sys.executable, "-m", "copier", *args], cwd=cwd)


def uv() -> str:
    """The uv executable (the README's set-up installs it)."""
    found = shutil.which("uv")
    if found is None:
        pytest.fail("uv is needed to run generated services; install it: pip install uv")
    return found


@dataclass(frozen=True)
class Service:
    """A generated service, with its dependencies installed."""

    name: str
    path: Path
    answers: dict[str, Any]

    @property
    def slug(self) -> str:
        """The service's command name."""
        return str(self.answers["project_slug"])

    def uv_run(self, *args: str, env: Mapping[str, str] | None = None) -> Completed:
        """Run a command in the service's own environment."""
        return run([uv(), "run", "--frozen", *args], cwd=self.path, env=env)


def generate_with_data_file(answers: Mapping[str, Any], destination: Path) -> Completed:
    """Generate through the command line, answers given as a ``--data-file``."""
    data_file = destination.parent / f"{destination.name}-answers.yml"
    data_file.write_text(yaml.safe_dump(dict(answers), sort_keys=False))
    return copier_cli(
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        # The work tree, uncommitted edits included: without it Copier renders the latest tag.
        "--vcs-ref",
        "HEAD",
        "--data-file",
        str(data_file),
        str(TEMPLATE_ROOT),
        str(destination),
        cwd=destination.parent,
    )


# What a template release is made of (the rest of this repository only tests it).
TEMPLATE_PARTS = ("copier.yml", "template", "extensions")


def git(*args: str, cwd: Path) -> Completed:
    """Run git, failing the test if it fails."""
    result = run(["git", *args], cwd=cwd)
    assert result.returncode == 0, result.explain()
    return result


def snapshot_template(destination: Path, tag: str = "0.1.0") -> Path:
    """Commit the template as it is in the work tree to a new git repo and tag it ``tag``.

    Copier records the template commit in every service and updates from it later, so tests
    that update services need a template whose commits exist, uncommitted edits included.
    """
    destination.mkdir(parents=True)
    for part in TEMPLATE_PARTS:
        source = TEMPLATE_ROOT / part
        if source.is_dir():
            shutil.copytree(
                source, destination / part, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, destination / part)
    git("init", "-q", "-b", "main", cwd=destination)
    git("add", "-A", cwd=destination)
    git("commit", "-q", "-m", f"Release {tag}", cwd=destination)
    git("tag", tag, cwd=destination)
    return destination


def install(path: Path) -> None:
    """Lock and install a generated service's dependencies into its own ``.venv``."""
    for args in ([uv(), "lock"], [uv(), "sync", "--frozen"]):
        result = run(args, cwd=path)
        assert result.returncode == 0, result.explain()


@pytest.fixture(scope="session")
def service(
    copie_session: Any, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Service]:
    """Get an answer set's service, generated and installed once for the whole session.

    The several-features set goes through ``copier copy --data-file`` (the command line a
    team uses); the others through pytest-copie.
    """

    @functools.cache
    def generated(name: str) -> Service:
        answers = ANSWER_SETS[name]
        if name == "several-features":
            path = tmp_path_factory.mktemp("cli") / "shop-service"
            result = generate_with_data_file(answers, path)
            assert result.returncode == 0, result.explain()
        else:
            copied = copie_session.copy(extra_answers=answers)
            assert copied.exit_code == 0, copied.exception
            path = Path(copied.project_dir)
        install(path)
        recorded = yaml.safe_load((path / ".copier-answers.yml").read_text())
        return Service(name, path, recorded)

    return generated
