"""The documentation by reader: a short README that links every doc, and no link that leads
nowhere (a file moved, a heading renamed)."""

import re
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
README = BASE_DIR / "README.md"
DOCS = sorted((BASE_DIR / "docs").glob("*.md"))
README_LINES_MAX = 200
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
IMAGE = re.compile(r'src="([^"]+)"')
HEADING = re.compile(r"^#{1,6} (.*)$", re.M)


def anchor_of(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(page: Path) -> list[str]:
    text = page.read_text()
    broken = []
    for target in LINK.findall(text) + IMAGE.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(target)
            continue
        headings = HEADING.findall(linked.read_text()) if linked.suffix == ".md" else []
        if anchor and anchor not in {anchor_of(heading) for heading in headings}:
            broken.append(target)
    return broken


def test_the_readme_is_a_landing_page_that_links_every_doc():
    text = README.read_text()

    assert len(text.splitlines()) < README_LINES_MAX
    assert [doc.name for doc in DOCS if f"docs/{doc.name}" not in text] == []


def test_no_link_in_the_readme_or_the_docs_leads_nowhere():
    assert {page.name: broken_links(page) for page in [README, *DOCS]} == {
        page.name: [] for page in [README, *DOCS]
    }


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## Backups\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#backups) [gone](nothing.md) [renamed](other.md#restores) "
        "[web](https://example.com) [here](#top)\n\n# Top\n"
    )

    assert broken_links(page) == ["nothing.md", "other.md#restores"]
