"""Shared fixtures: generated services (made once per test run) and a command runner.

The suite has tiers, chosen with markers (see pyproject.toml): tests of the extensions and
the questions run in seconds; ``generation`` tests generate services and run their gates,
``postgres`` ones also need the PostgreSQL server, ``lifecycle`` ones release the template
and update services. ``--answer-set NAME`` keeps only the generation tests of those answer
sets. The suite runs on every core (pytest-xdist): the first worker that needs an answer
set's service generates and installs it, the others wait for it and share it. While it
generates, installs and gates services the suite prints a line for each step, so a long run
says what it is doing.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from filelock import FileLock

from tests.answer_sets import ANSWER_SETS

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
# A team's files for a generated service (see team_code/README.md): its tests run there.
collect_ignore = ["team_code"]
# Steps of this process's work on generated services, not yet shown: see `report_progress`.
_progress: list[str] = []
# Generated services install their own dependencies; a cold cache downloads them once.
COMMAND_TIMEOUT = 900
# Requests per operation and mode of a generated suite's API fuzzing, in this suite's runs.
SERVICE_FUZZ_EXAMPLES = "4"


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
    """The environment for a generated service's commands."""
    # Without this project's venv; and with bytecode written, whatever this shell says: each
    # service runs its tests, its CLI and its server many times, and without .pyc files every
    # process would compile its dependencies from source again.
    hidden = {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env.update({"NO_COLOR": "1", "UV_NO_PROGRESS": "1"})
    # Every run of a generated suite fuzzes its API afresh; together they send many more
    # requests per operation than a team's one run (which keeps the service's default).
    env.setdefault("API_FUZZ_EXAMPLES", SERVICE_FUZZ_EXAMPLES)
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
        """Run a command in the service's own environment, and say how it went."""
        result = run([uv(), "run", "--frozen", *args], cwd=self.path, env=env)
        outcome = "passed" if result.returncode == 0 else f"exit {result.returncode}"
        announce(f"{self.name}: {' '.join(args)} {outcome} in {result.seconds:.1f}s")
        return result


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
def shared_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory of this run that every xdist worker sees: services are made there once."""
    base = tmp_path_factory.getbasetemp()
    # A worker's base is <run>/popen-gwN; without xdist the base is the run's own directory.
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session", autouse=True)
def mypy_cache(shared_dir: Path, worker_id: str) -> Iterator[Path]:
    """One mypy cache for every service a worker checks, instead of one per service.

    Services share their third-party packages (uv links them from its cache) and most of their
    own modules' text; mypy rechecks whatever differs, by content, so the verdict is the same.
    One per worker: mypy does not share a cache with a run beside it.
    """
    cache = shared_dir / f"mypy-cache-{worker_id}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MYPY_CACHE_DIR", str(cache))
        yield cache


def once_per_run(shared_dir: Path, step: str, make: Callable[[], Path]) -> Path:
    """The path ``make`` returns, made by the first worker that asks; the others wait for it."""
    record = shared_dir / f"{step}.done"
    with FileLock(shared_dir / f"{step}.lock"):
        if not record.exists():
            record.write_text(str(make()))
        return Path(record.read_text())


@pytest.fixture(scope="session")
def shared_copie(copie_session: Any, shared_dir: Path, worker_id: str) -> Any:
    """pytest-copie, rendering where the services outlive this worker's session.

    The session's own copie directory goes when this worker has run its last test, while
    another worker may still be using a service rendered there.
    """
    renders = shared_dir / f"services-{worker_id}"
    renders.mkdir()
    return dataclasses.replace(copie_session, test_dir=renders, counter=0)


@pytest.fixture(scope="session")
def rendered(
    shared_copie: Any, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """Get an answer set's service, generated once for the whole run (not installed).

    The several-features set goes through ``copier copy --data-file`` (the command line a
    team uses); the others through pytest-copie. With xdist, the first worker that needs a
    service generates it and the others use that one.
    """

    def generate(name: str) -> Path:
        answers = ANSWER_SETS[name]
        started = time.perf_counter()
        if name == "several-features":
            path = tmp_path_factory.mktemp("cli") / "shop-service"
            result = generate_with_data_file(answers, path)
            assert result.returncode == 0, result.explain()
        else:
            copied = shared_copie.copy(extra_answers=answers)
            assert copied.exit_code == 0, copied.exception
            path = Path(copied.project_dir)
        announce(f"generated {name} in {time.perf_counter() - started:.1f}s: {path}")
        return path

    @functools.cache
    def generated(name: str) -> Path:
        return once_per_run(shared_dir, f"render-{name}", lambda: generate(name))

    return generated


@pytest.fixture(scope="session")
def service(rendered: Callable[[str], Path], shared_dir: Path) -> Callable[[str], Service]:
    """Get an answer set's service, generated and installed once for the whole run."""

    def installed_at(path: Path, name: str) -> Path:
        started = time.perf_counter()
        install(path)
        announce(f"installed {name} (uv lock, uv sync) in {time.perf_counter() - started:.1f}s")
        return path

    @functools.cache
    def installed(name: str) -> Service:
        path = once_per_run(
            shared_dir, f"install-{name}", lambda: installed_at(rendered(name), name)
        )
        recorded = yaml.safe_load((path / ".copier-answers.yml").read_text())
        return Service(name, path, recorded)

    return installed


def announce(step: str) -> None:
    """Queue a line about a step on a generated service, for the terminal (see below)."""
    _progress.append(step)


def answer_set_of(item: pytest.Item) -> str | None:
    """The answer set whose service a test needs: its ``name`` parameter or its marker."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("name") in ANSWER_SETS:
        return str(callspec.params["name"])
    marker = item.get_closest_marker("answer_set")
    return str(marker.args[0]) if marker else None


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--answer-set``: run the generation tests of these answer sets only."""
    parser.addoption(
        "--answer-set",
        action="append",
        choices=sorted(ANSWER_SETS),
        help="keep only the generation tests of this answer set (repeatable)",
    )


def cost_rank(item: pytest.Item) -> int:
    """How early a test should start: installed services first, then rendered ones, then the rest.

    With xdist the long tests then start at once on every worker, and the short ones fill in.
    """
    fixtures = getattr(item, "fixturenames", ())
    if "service" in fixtures or item.get_closest_marker("lifecycle"):
        return 0
    return 1 if item.get_closest_marker("generation") else 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the long tests first; with ``--answer-set``, deselect the other answer sets."""
    chosen = config.getoption("answer_set")
    if chosen:
        kept = [item for item in items if answer_set_of(item) in (None, *chosen)]
        if len(kept) < len(items):
            config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept
    items.sort(key=cost_rank)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport() -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the queued steps to the test's report: xdist sends reports to the controller."""
    report = yield
    while _progress:
        report.user_properties.append(("progress", _progress.pop(0)))
    return report


class ProgressPrinter:
    """Prints the steps that test reports carry, as lines between the test results."""

    def __init__(self, reporter: Any) -> None:
        self.reporter = reporter

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Show the steps done while the reported test ran."""
        for key, value in report.user_properties:
            if key == "progress":
                self.reporter.write_line(f"[services] {value}")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Print progress where there is a terminal: the controller, not the xdist workers."""
    # trylast: the terminal reporter registers itself in its own pytest_configure.
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not hasattr(config, "workerinput"):
        config.pluginmanager.register(ProgressPrinter(reporter), "service-progress")
