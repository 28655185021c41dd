"""No module of the project grows past about 400 lines without its docstring saying why
(a line starting ``Size:``). Test modules are left out: each is a list of cases on one topic.
Migrations are written by ``makemigrations``."""

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINES_MAX = 400


def modules_too_long_without_a_reason(paths: list[Path], *, root: Path = ROOT) -> list[str]:
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines <= LINES_MAX:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if not any(line.startswith("Size:") for line in docstring.splitlines()):
            found.append(f"{path.relative_to(root)} ({lines} lines)")
    return found


def project_modules() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "*.py"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return [
        ROOT / name
        for name in listed
        if name and not name.startswith(("tests/", "firmware/")) and "/migrations/" not in name
    ]


def test_every_long_module_says_why_it_is_one_module():
    modules = project_modules()
    assert len(modules) > 100  # the listing found the project

    assert modules_too_long_without_a_reason(modules) == []


def test_a_long_module_without_a_reason_is_found(tmp_path):
    long_body = "x = 1\n" * (LINES_MAX + 1)
    silent = tmp_path / "silent.py"
    silent.write_text('"""A module."""\n' + long_body)
    reasoned = tmp_path / "reasoned.py"
    reasoned.write_text('"""A module.\n\nSize: one table of data.\n"""\n' + long_body)
    short = tmp_path / "short.py"
    short.write_text('"""A module."""\nx = 1\n')

    assert modules_too_long_without_a_reason([silent, reasoned, short], root=tmp_path) == [
        f"silent.py ({LINES_MAX + 2} lines)"
    ]
