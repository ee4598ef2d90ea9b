"""Rendering benchmark: ``copier copy`` of 1, 5 and 20 features, and an update adding one.

Each is compared with its plain-file control: Copier copying a template whose files are the
same output as plain files (no Jinja, no questions, no extensions), from a git repository as
well, so the ratio is the cost of this template's rendering beyond Copier's own fixed cost.
Run by ``benchmarks/run.py --generation``, or alone: ``uv run python benchmarks/generation.py``.
"""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COPY = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet"]
FEATURE_COUNTS = (1, 5, 20)
# Feature names: plain nouns, so that every generated name (plurals, routes) is an ordinary one.
NOUNS = (
    "product", "order", "invoice", "customer", "supplier", "warehouse", "shipment", "payment",
    "refund", "coupon", "category", "review", "basket", "carrier", "region", "currency",
    "employee", "contract", "ticket", "account", "voucher",
)  # fmt: skip


def features(count: int) -> list[dict[str, str]]:
    """``count`` features of two fields each, in two domains."""
    names = NOUNS[:count]
    return [
        {"domain": ("catalog", "sales")[i % 2], "name": name, "fields": "title:str(80), rank:int=0"}
        for i, name in enumerate(names)
    ]


def timed(command: list[str], cwd: Path | None = None) -> float:
    """Seconds ``command`` takes; it must succeed."""
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, check=False, capture_output=True, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        msg = f"{' '.join(command)} failed:\n{done.stderr.decode()[-2000:]}"
        raise RuntimeError(msg)
    return time.perf_counter() - start


def commit_all(folder: Path) -> None:
    """Make ``folder`` a git repository holding its files in one commit."""
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "snapshot"], cwd=folder, check=True)


def plain_control(service: Path, folder: Path) -> Path:
    """A Copier template whose files are ``service``'s, as plain files, in a git repository."""
    template = folder / "template"
    shutil.copytree(service, template / "template", ignore=shutil.ignore_patterns(".git"))
    (template / "template" / ".copier-answers.yml").unlink(missing_ok=True)
    (template / "copier.yml").write_text("_subdirectory: template\n")
    commit_all(template)
    return template


def template_snapshot(scratch: Path) -> Path:
    """This clone's working tree, edits included, committed in a git repository of its own.

    Both the copies and the update render from it: an update needs the commit the service
    was made from, which a copy of uncommitted edits would not leave behind.
    """
    snapshot = scratch / "template-snapshot"
    if not snapshot.exists():
        ignored = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", "results.json")
        shutil.copytree(ROOT, snapshot, ignore=ignored)
        commit_all(snapshot)
    return snapshot


def copy(data: dict[str, Any], destination: Path, scratch: Path) -> float:
    """Time one ``copier copy`` of this template with ``data``."""
    answers = scratch / f"answers-{destination.name}.yml"
    answers.write_text(yaml.safe_dump(data))
    source = str(template_snapshot(scratch))
    command = [*COPY, "--vcs-ref", "HEAD", "--data-file", str(answers), source, str(destination)]
    return timed(command)


def measure(folder: Path, *, quick: bool = False) -> dict[str, Any]:
    """Time the copies, the update and their controls; the best of the repeats of each."""
    scratch = folder / "generation"
    scratch.mkdir(exist_ok=True)
    repeats = 1 if quick else 3
    results: dict[str, Any] = {}
    for count in FEATURE_COUNTS:
        data = {"project_name": "Bench Service", "features": features(count)}
        rendered, plain = [], []
        for attempt in range(repeats):
            destination = scratch / f"copy-{count}-{attempt}"
            rendered.append(copy(data, destination, scratch))
            control = plain_control(destination, scratch / f"control-{count}-{attempt}")
            plain.append(timed([*COPY, "--vcs-ref", "HEAD", str(control), str(scratch / "p")]))
            shutil.rmtree(scratch / "p")
        results[f"copy {count}"] = {"seconds": min(rendered), "plain_seconds": min(plain)}
    results["update +1 to 20"] = update(scratch, repeats)
    return results


def update(scratch: Path, repeats: int) -> dict[str, Any]:
    """Time adding a 21st feature to a 20-feature service, against a plain 20-feature copy."""
    base = {"project_name": "Bench Service", "features": features(20)}
    grown = json.dumps(features(21))
    seconds, plain = [], []
    for attempt in range(repeats):
        service = scratch / f"update-{attempt}"
        copy(base, service, scratch)
        commit_all(service)
        command = [
            sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--quiet",
            "--vcs-ref", "HEAD", "--data", f"features={grown}",
        ]  # fmt: skip
        seconds.append(timed(command, cwd=service))
        control = plain_control(scratch / "copy-20-0", scratch / f"control-update-{attempt}")
        plain.append(timed([*COPY, "--vcs-ref", "HEAD", str(control), str(scratch / "p")]))
        shutil.rmtree(scratch / "p")
    return {"seconds": min(seconds), "plain_seconds": min(plain)}


def table(results: dict[str, Any]) -> str:
    """The rendering table: seconds, the control's, and their ratio."""
    lines = ["| generation | seconds | plain-file control | ratio |", "|---|---|---|---|"]
    for name, figures in results.items():
        ratio = figures["seconds"] / figures["plain_seconds"]
        lines.append(
            f"| {name} | {figures['seconds']:.2f} | {figures['plain_seconds']:.2f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="copier-gen-bench-") as folder:
        measured = measure(Path(folder), quick="--quick" in sys.argv)
    print(table(measured))
    print(json.dumps(measured, indent=2))
