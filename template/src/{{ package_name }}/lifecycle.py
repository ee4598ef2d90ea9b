"""Template lifecycle: add a feature or pull a template release with Copier, never silently.

Copier exits 0 even when it leaves conflict markers, so every update here is followed by a
search for them. Copier and PyYAML are development dependencies: a production install only
serves the API, so they are imported where they are used rather than at the top of this module,
which the command line imports.
"""

import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ANSWERS_FILE = ".copier-answers.yml"
# Lines that git and Copier write around a conflict (pre-commit's check-merge-conflict agrees).
CONFLICT_MARKER_PREFIXES = (b"<<<<<<< ", b">>>>>>> ")
CONFLICT_SEPARATOR = b"======="
# `copier update --conflict rej` leaves the hunks it could not apply next to the file.
REJECTED_SUFFIX = ".rej"

# One item of the `features` answer: {"domain": ..., "name": ..., "fields": ...}.
Feature = dict[str, str]


class LifecycleError(Exception):
    """A lifecycle command can't go on; the message says why and what to do."""


@dataclass(frozen=True)
class UpdateOutcome:
    """What an update did: template versions before and after, changes, and conflicts."""

    previous_version: str
    version: str
    changes: list[str]
    conflicts: list[str]

    def report(self) -> list[str]:
        """Describe the outcome in a few lines for the terminal."""
        if self.previous_version == self.version:
            lines = [f"template version {self.version} (unchanged)"]
        else:
            lines = [f"template version {self.previous_version} -> {self.version}"]
        if not self.changes:
            return [*lines, "nothing changed"]
        return [
            *lines,
            f"changed paths: {len(self.changes)}; review them (git status, git diff), "
            "run the checks and the migrations, then commit",
        ]


def find_project(start: Path | None = None) -> Path:
    """Return the service's root: the nearest directory at or above ``start`` with answers."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / ANSWERS_FILE).is_file():
            return directory
    msg = f"no {ANSWERS_FILE} in {here} or above it: run this command inside the service"
    raise LifecycleError(msg)


def parse_answers(text: str) -> dict[str, Any]:
    """Parse the contents of the answers file Copier wrote."""
    import yaml  # noqa: PLC0415 - PyYAML comes with Copier, a dev dependency

    answers = yaml.safe_load(text)
    if not isinstance(answers, dict):
        msg = f"{ANSWERS_FILE} does not hold a mapping of answers"
        raise LifecycleError(msg)
    return answers


def read_answers(project: Path) -> dict[str, Any]:
    """Read the answers the service was last generated or updated with."""
    return parse_answers((project / ANSWERS_FILE).read_text(encoding="utf-8"))


def template_version(answers: Mapping[str, Any]) -> str:
    """Return the template version (git tag or commit) the answers were recorded at."""
    version = answers.get("_commit")
    if not isinstance(version, str) or not version:
        msg = f"{ANSWERS_FILE} records no template version (_commit): Copier can't update it"
        raise LifecycleError(msg)
    return version


def recorded_features(answers: Mapping[str, Any]) -> list[Feature]:
    """Return the ``features`` answer: every feature as ``{domain, name, fields}``."""
    features = answers.get("features")
    if not isinstance(features, list) or not all(isinstance(item, dict) for item in features):
        msg = f"{ANSWERS_FILE} has no list of features; restore it from git"
        raise LifecycleError(msg)
    return [{str(key): str(value) for key, value in item.items()} for item in features]


def with_feature(features: Sequence[Feature], domain: str, name: str, fields: str) -> list[Feature]:
    """Return ``features`` with a new feature appended, refusing a name already taken."""
    for feature in features:
        if feature.get("name") == name:
            msg = (
                f"feature {name!r} already exists (in domain {feature.get('domain')!r}); "
                "feature names are unique across domains because they name the tables"
            )
            raise LifecycleError(msg)
    return [*features, {"domain": domain, "name": name, "fields": fields}]


def conflict_lines(content: bytes) -> list[int]:
    """Return the numbers (from 1) of the lines that are merge-conflict markers."""
    return [
        number
        for number, line in enumerate(content.splitlines(), start=1)
        if line.startswith(CONFLICT_MARKER_PREFIXES) or line == CONFLICT_SEPARATOR
    ]


def conflicted_files(project: Path, paths: Iterable[str]) -> list[str]:
    """Return which of ``paths`` (relative to ``project``) are rejects or hold markers."""
    found = []
    for path in sorted(set(paths)):
        file = project / path
        if path.endswith(REJECTED_SUFFIX) or (file.is_file() and conflict_lines(file.read_bytes())):
            found.append(path)
    return found


def git(project: Path, *args: str) -> str:
    """Run git in ``project`` and return what it printed; a failure is a LifecycleError."""
    executable = shutil.which("git")
    if executable is None:
        msg = "git is needed to update the service: install it"
        raise LifecycleError(msg)
    # The arguments are git subcommands chosen here, never a shell string.
    result = subprocess.run(  # noqa: S603
        [executable, *args], cwd=project, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        msg = f"`git {' '.join(args)}` failed in {project}: {result.stderr.strip()}"
        raise LifecycleError(msg)
    return result.stdout


def uncommitted_changes(project: Path) -> list[str]:
    """Return the service's uncommitted changes, as ``git status --porcelain`` lines."""
    return git(project, "status", "--porcelain", "--", ".").splitlines()


def files_to_check(project: Path) -> list[str]:
    """Return the files an update may leave conflicts in: tracked, new, and ignored rejects."""
    listed = git(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
    ignored = git(
        project, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"
    )
    rejects = [path for path in ignored.split("\0") if path.endswith(REJECTED_SUFFIX)]
    return sorted({path for path in listed.split("\0") if path} | set(rejects))


def require_clean_work_tree(project: Path) -> None:
    """Refuse to update a work tree with uncommitted changes: the update must be reviewable."""
    changes = uncommitted_changes(project)
    if changes:
        msg = (
            "the work tree has uncommitted changes; commit or stash them first, so the "
            "update can be reviewed and undone on its own:\n  " + "\n  ".join(changes)
        )
        raise LifecycleError(msg)


def copier_update(project: Path, vcs_ref: str | None, data: Mapping[str, Any]) -> None:
    """Run ``copier update --trust --defaults`` on ``project`` at ``vcs_ref`` with ``data``.

    ``vcs_ref`` None means the template's latest release. Copier checks every answer with the
    template's own validators before it writes anything; a refused answer is a LifecycleError.
    """
    try:
        from copier import run_update  # noqa: PLC0415 - Copier is a dev dependency
        from copier.errors import CopierError  # noqa: PLC0415 - likewise
    except ImportError as error:
        msg = "Copier is not installed: it is a dev dependency, run `uv sync`"
        raise LifecycleError(msg) from error
    try:
        run_update(
            project,
            data=dict(data),
            vcs_ref=vcs_ref,
            defaults=True,
            overwrite=True,
            unsafe=True,  # The template runs its own Jinja extensions, trusted at generation.
            quiet=True,
        )
    except (CopierError, ValueError) as error:
        # Copier's own messages (a refused answer, an unknown ref, a downgrade) say it all.
        raise LifecycleError(str(error)) from error


def outcome(project: Path, previous_version: str) -> UpdateOutcome:
    """Describe the work tree after an update, conflicts included."""
    return UpdateOutcome(
        previous_version=previous_version,
        version=template_version(read_answers(project)),
        changes=uncommitted_changes(project),
        conflicts=conflicted_files(project, files_to_check(project)),
    )


def add_feature(project: Path, domain: str, name: str, fields: str) -> UpdateOutcome:
    """Append a feature to the recorded features and re-render at the same template version."""
    answers = read_answers(project)
    features = with_feature(recorded_features(answers), domain, name, fields)
    require_clean_work_tree(project)
    version = template_version(answers)
    copier_update(project, vcs_ref=version, data={"features": features})
    return outcome(project, version)


def update(project: Path, vcs_ref: str | None = None) -> UpdateOutcome:
    """Update the service to the template's latest release, or to ``vcs_ref``."""
    previous_version = template_version(read_answers(project))
    require_clean_work_tree(project)
    copier_update(project, vcs_ref=vcs_ref, data={})
    return outcome(project, previous_version)
