"""Rendering benchmark: ``copier copy`` of 1, 5 and 20 features, and an update adding one.

Each is compared with its plain-file control: Copier copying the same output as plain files.
What the two share, so that their ratio is the cost of this template's rendering alone:

- the same Copier in the same environment, run the same way (a ``python -m copier`` process
  with ``--trust --defaults --quiet``), from a git repository of the same content: the control
  is this clone's snapshot (the files git would commit, caches left out) with ``template/``
  replaced by the rendered service's files and a ``copier.yml`` that asks nothing (no
  questions, extensions, tasks or messages);
- the same files written, the answers file included: the control keeps the template's
  answers-file template, Copier's own mechanism for a service that can be updated;
- bytecode: the environment is made here (``uv pip install --compile-bytecode``, the
  versions of Copier, copier-template-extensions, inflect and ruff in ``uv.lock``), as an
  installed tool has it; a run without it recompiles Copier's whole import graph each time,
  which is nobody's steady state (``PYTHONDONTWRITEBYTECODE`` set, or a read-only cache).

What the control leaves out is this template's: Jinja rendering, the questions' validators
and computed defaults, the extensions it loads (with inflect), ruff laying out the code a
feature's names shape, and its one ``_tasks`` entry.
Rounds alternate the order of the runs; the table shows the median time over rounds, and as
each ratio the median of the rounds' ratios (a run over its control, timed beside it).

``--baseline REF`` times the template at a git ref of this clone too (e.g. ``main``), in the
same rounds: before/after figures of a change. Run by ``benchmarks/run.py --generation``, or
alone: ``uv run python benchmarks/generation.py [--rounds N] [--baseline REF]``.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ANSWERS_TEMPLATE = "{{_copier_conf.answers_file}}.jinja"
FINGERPRINT = "# features: "
TOOL_PACKAGES = ("copier", "copier-template-extensions", "inflect", "ruff")
FLAGS = ["--trust", "--defaults", "--quiet"]
FEATURE_COUNTS = (1, 5, 20)
PLAIN_UPDATE = "plain update"
# Keys of a case's figures that are not a template's median.
NOT_TEMPLATES = frozenset({"plain", PLAIN_UPDATE, "rounds", "all", "ratios"})
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


def answers(count: int) -> dict[str, Any]:
    """The answers of a service with ``count`` features."""
    return {"project_name": "Bench Service", "features": features(count)}


def run(command: list[str], cwd: Path | None = None) -> None:
    """Run ``command``; it must succeed."""
    done = subprocess.run(
        command, cwd=cwd, check=False, capture_output=True, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        msg = f"{' '.join(command)} failed:\n{done.stderr.decode()[-2000:]}"
        raise RuntimeError(msg)


def timed(command: list[str], cwd: Path | None = None) -> float:
    """Seconds ``command`` takes; it must succeed."""
    start = time.perf_counter()
    run(command, cwd)
    return time.perf_counter() - start


def commit_all(folder: Path) -> None:
    """Make ``folder`` a git repository holding its files in one commit."""
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    run(["git", "init", "-q"], cwd=folder)
    run(["git", "add", "-A"], cwd=folder)
    run([*git, "commit", "-qm", "snapshot"], cwd=folder)


def tool_python(scratch: Path) -> str:
    """A Python whose environment has Copier and the template's needs, bytecode compiled."""
    environment = scratch / "copier-env"
    python = environment / "bin" / "python"
    if not python.exists():
        lock = tomllib.loads((ROOT / "uv.lock").read_text())
        pinned = {package["name"]: package["version"] for package in lock["package"]}
        run(["uv", "venv", "-q", "--python", sys.executable, str(environment)])
        requirements = [f"{name}=={pinned[name]}" for name in TOOL_PACKAGES]
        run(["uv", "pip", "install", "-q", "--compile-bytecode", "--python", str(python),
             *requirements])  # fmt: skip
    return str(python)


def snapshot(source: Path, destination: Path) -> Path:
    """``source``'s files (a working tree, edits included) committed in a repository of its own.

    Copies and updates render from it: an update needs the commit the service was made from,
    which a copy of uncommitted edits would not leave behind.
    """
    if not destination.exists():
        # The files git would commit (tracked, and new ones it does not ignore): caches and
        # environments (.mypy_cache, .venv ...) would make every clone of the snapshot slower
        # than a clone of the template as released.
        listed = subprocess.run(
            ["git", "-C", str(source), "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"],
            check=True, capture_output=True, text=True,
        ).stdout.split("\0")  # fmt: skip
        for name in filter(None, listed):
            if (source / name).is_file():  # a deleted file is still listed as cached
                (destination / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, destination / name)
        commit_all(destination)
    return destination


def snapshot_of_ref(ref: str, destination: Path) -> Path:
    """This clone's template at git ``ref``, committed in a repository of its own."""
    if not destination.exists():
        destination.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
        commit_all(destination)
    return destination


def plain_control(template: Path, service: Path, destination: Path) -> Path:
    """``template``'s repository with its ``template/`` replaced by ``service`` as plain files.

    Its ``copier.yml`` asks nothing and loads nothing; the answers-file template stays, so that
    Copier writes an answers file here as well.
    """
    if not destination.exists():
        ignored = shutil.ignore_patterns(".git", "template")
        shutil.copytree(template, destination, ignore=ignored)
        shutil.copytree(
            service,
            destination / "template",
            ignore=shutil.ignore_patterns(".git", ".copier-answers.yml"),
        )
        # The answers-file template's fingerprint line needs the template's extensions, which
        # the control doesn't load: the line the service got stands in for it, as text.
        rendered = (service / ".copier-answers.yml").read_text().splitlines()
        lines = (template / "template" / ANSWERS_TEMPLATE).read_text().splitlines(keepends=True)
        (destination / "template" / ANSWERS_TEMPLATE).write_text(
            "".join(
                next(text for text in rendered if text.startswith(FINGERPRINT)) + "\n"
                if line.startswith(FINGERPRINT)
                else line
                for line in lines
            )
        )
        (destination / "copier.yml").write_text(
            "_subdirectory: template\n_answers_file: .copier-answers.yml\n"
        )
        commit_all(destination)
    return destination


class Generation:
    """The runs of one benchmark: its scratch folder, Copier, and the templates compared."""

    def __init__(self, scratch: Path, baseline: str | None) -> None:
        self.scratch = scratch
        self.python = tool_python(scratch)
        self.templates = {"template": snapshot(ROOT, scratch / "template-snapshot")}
        if baseline:
            self.templates[f"baseline {baseline}"] = snapshot_of_ref(
                baseline, scratch / "baseline-snapshot"
            )
        self.runs = 0

    def copier(self, *arguments: str) -> list[str]:
        """A ``copier`` command line."""
        return [self.python, "-m", "copier", *arguments[:1], *FLAGS, *arguments[1:]]

    def fresh(self, name: str) -> Path:
        """A path for one run's output, not there yet."""
        self.runs += 1
        return self.scratch / f"{name}-{self.runs}"

    def copy(self, template: Path, count: int, destination: Path) -> float:
        """Seconds one ``copier copy`` of ``template`` with ``count`` features takes."""
        data = self.scratch / f"answers-{count}.yml"
        data.write_text(yaml.safe_dump(answers(count)))
        source = ["--vcs-ref", "HEAD", "--data-file", str(data), str(template)]
        return timed(self.copier("copy", *source, str(destination)))

    def plain_copy(self, control: Path) -> float:
        """Seconds one ``copier copy`` of a plain-file control takes."""
        destination = self.fresh("plain")
        seconds = timed(self.copier("copy", "--vcs-ref", "HEAD", str(control), str(destination)))
        shutil.rmtree(destination)
        return seconds

    def update(self, template: Path) -> float:
        """Seconds ``copier update`` takes to add a 21st feature to a 20-feature service."""
        service = self.fresh("update")
        self.copy(template, 20, service)
        commit_all(service)
        grown = json.dumps(features(21))
        seconds = timed(
            self.copier("update", "--vcs-ref", "HEAD", "--data", f"features={grown}"),
            cwd=service,
        )
        shutil.rmtree(service)
        return seconds

    def plain_update(self, control: Path) -> float:
        """Seconds Copier's own update takes between two plain-file releases (see measure)."""
        service = self.fresh("plain-update")
        first = subprocess.run(
            ["git", "-C", str(control), "rev-list", "--max-parents=0", "HEAD"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        run(self.copier("copy", "--vcs-ref", first, str(control), str(service)))
        commit_all(service)
        seconds = timed(self.copier("update", "--vcs-ref", "HEAD"), cwd=service)
        shutil.rmtree(service)
        return seconds

    def plain_release(self) -> Path:
        """A plain-file template with two commits: the 20-feature service, then the 21-feature one.

        Updating a service made from the first to the second is the update with no rendering:
        what Copier's update algorithm costs by itself (it renders three copies, diffs and
        applies them with git).
        """
        destination = self.scratch / "plain-release"
        if not destination.exists():
            shutil.copytree(self.control(20), destination)
            shutil.rmtree(destination / "template")
            shutil.copytree(self.control(21) / "template", destination / "template")
            git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
            run(["git", "add", "-A"], cwd=destination)
            run([*git, "commit", "-qm", "21 features"], cwd=destination)
        return destination

    def control(self, count: int) -> Path:
        """The plain-file control of a ``count``-feature copy of this clone's template."""
        template = self.templates["template"]
        service = self.scratch / f"service-{count}"
        if not service.exists():
            self.copy(template, count, service)
        return plain_control(template, service, self.scratch / f"control-{count}")

    def measure(self, rounds: int, counts: tuple[int, ...] = FEATURE_COUNTS) -> dict[str, Any]:
        """Median seconds of each run over ``rounds`` rounds, each in a rotated order.

        The update case also times ``plain update``: Copier updating a plain-file service from
        the 20-feature release of the control to the 21-feature one (see plain_release).
        """
        cases: dict[str, dict[str, Callable[[], float]]] = {}
        for count in counts:
            control = self.control(count)
            cases[f"copy {count}"] = {"plain": lambda control=control: self.plain_copy(control)}
            for name, template in self.templates.items():
                cases[f"copy {count}"][name] = lambda template=template, count=count: (
                    self._timed_copy(template, count)
                )
        grown_control = self.control(21)
        release = self.plain_release()
        cases["update +1 to 20"] = {
            "plain": lambda: self.plain_copy(grown_control),
            PLAIN_UPDATE: lambda: self.plain_update(release),
        }
        for name, template in self.templates.items():
            cases["update +1 to 20"][name] = lambda template=template: self.update(template)
        times: dict[str, dict[str, list[float]]] = {
            case: {name: [] for name in runs} for case, runs in cases.items()
        }
        for round_number in range(rounds):
            for case, runs in cases.items():
                names = list(runs)
                shift = round_number % len(names)
                for name in names[shift:] + names[:shift]:
                    times[case][name].append(runs[name]())
        return {
            case: {name: statistics.median(seconds) for name, seconds in runs.items()}
            | {"rounds": rounds, "all": runs, "ratios": round_ratios(runs)}
            for case, runs in times.items()
        }

    def _timed_copy(self, template: Path, count: int) -> float:
        destination = self.fresh("copy")
        seconds = self.copy(template, count, destination)
        shutil.rmtree(destination)
        return seconds


def round_ratios(runs: dict[str, list[float]]) -> dict[str, float]:
    """Each run's median over the rounds of its time over the control's in the same round.

    A run and its control are timed back to back, so a round's ratio is little moved by the
    machine slowing down or speeding up between rounds, which moves the medians of the times.
    """
    plain = runs["plain"]
    return {
        name: statistics.median(
            seconds / control for seconds, control in zip(times, plain, strict=True)
        )
        for name, times in runs.items()
        if name != "plain"
    }


def measure(
    folder: Path,
    *,
    quick: bool = False,
    rounds: int | None = None,
    baseline: str | None = None,
    counts: tuple[int, ...] = FEATURE_COUNTS,
) -> dict[str, Any]:
    """Time the copies, the update and their controls (medians over the rounds)."""
    scratch = folder / "generation"
    scratch.mkdir(exist_ok=True)
    return Generation(scratch, baseline).measure(rounds or (2 if quick else 5), counts)


def table(results: dict[str, Any]) -> str:
    """The rendering table: median seconds of each template, the control's, and their ratios."""
    first = next(iter(results.values()))
    templates = [name for name in first if name not in NOT_TEMPLATES]
    header = "| generation | plain-file control | " + " | ".join(
        f"{name} | ratio" for name in templates
    )
    lines = [header + " |", "|---" * (2 + 2 * len(templates)) + "|"]
    for case, figures in results.items():
        plain = figures["plain"]
        ratios = figures.get("ratios") or {name: figures[name] / plain for name in templates}
        cells = [f"{figures[name]:.2f} | {ratios[name]:.2f}x" for name in templates]
        lines.append(f"| {case} | {plain:.2f} | " + " | ".join(cells) + " |")
    lines.append(
        f"\nSeconds: medians over {first['rounds']} rounds. Ratios: the median of each round's"
        " ratio to the control timed beside it."
    )
    for case, figures in results.items():
        if PLAIN_UPDATE in figures:
            lines.append(
                f"{case}: Copier's own update of the same files as plain files (two plain"
                f" releases) takes {figures[PLAIN_UPDATE]:.2f} s,"
                f" {figures['ratios'][PLAIN_UPDATE]:.2f}x the plain copy."
            )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", help="also time the template at this git ref (e.g. main)")
    parser.add_argument(
        "--features", type=int, nargs="+", default=FEATURE_COUNTS, help="copies to time (1 5 20)"
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="copier-gen-bench-") as folder:
        measured = measure(
            Path(folder), rounds=args.rounds, baseline=args.baseline, counts=tuple(args.features)
        )
    print(table(measured))
    if args.out:
        report = {
            "command": " ".join(["benchmarks/generation.py", *sys.argv[1:]]),
            "system": platform.platform(),
            "load_average_at_end": os.getloadavg(),
            "results": measured,
        }
        args.out.write_text(json.dumps(report, indent=2) + "\n")
