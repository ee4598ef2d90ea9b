"""The template's own files read as the code they make: no line wider than a review screen."""

from pathlib import Path

from tests.conftest import TEMPLATE_ROOT

# Wider than the generated code's 100 columns, for the Jinja around it; never a wall of text.
LONGEST_TEMPLATE_LINE = 120


def template_files() -> list[Path]:
    """Every file under template/ (what Copier renders)."""
    return sorted(path for path in (TEMPLATE_ROOT / "template").rglob("*") if path.is_file())


def test_no_template_line_is_longer_than_120_characters() -> None:
    files = template_files()
    assert len(files) > 50
    too_long = [
        f"{path.relative_to(TEMPLATE_ROOT)}:{number}: {len(line)} characters"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if len(line) > LONGEST_TEMPLATE_LINE
    ]
    assert too_long == []


# Windows refuses paths over 260 characters unless long paths are turned on, and Copier clones
# the template under the user's temporary folder first (C:\Users\<name>\AppData\Local\Temp\
# copier._vcs.clone.<random>\, about 60 characters): the template's own paths keep 60 spare.
LONGEST_TEMPLATE_PATH = 200


def test_every_template_path_fits_windows_limit_inside_copiers_clone() -> None:
    too_long = [
        f"{len(relative)} characters: {relative}"
        for path in template_files()
        if len(relative := path.relative_to(TEMPLATE_ROOT).as_posix()) > LONGEST_TEMPLATE_PATH
    ]
    assert too_long == []
