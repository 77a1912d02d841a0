"""Every relative link of the README and of docs/ (Markdown ``[text](target)``) names a file or
folder that exists in the repository, and its ``#anchor``, if any, a heading of that page."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#+\s+(.+?)\s*#*$", re.MULTILINE)


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of ``page``: lower case, punctuation dropped, spaces
    as hyphens, a repeated heading numbered ``-1``, ``-2``, ..."""
    seen: dict[str, int] = {}
    for heading in HEADING.findall(page.read_text(encoding="utf-8")):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, -1) + 1
        seen[slug] = n
        if n:
            seen[f"{slug}-{n}"] = 0
    return set(seen)


def broken_links(path: Path) -> list[str]:
    out = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        file, _, anchor = target.partition("#")
        if re.match(r"^[a-z]+:", file):  # a URL
            continue
        page = path.parent / file if file else path
        if not page.exists() or (anchor and page.suffix == ".md"
                                 and anchor not in anchors(page)):
            out.append(target)
    return out


def test_every_relative_link_resolves():
    files = markdown_files()
    assert len(files) > 5 and (ROOT / "docs" / "api.md") in files
    broken = {str(p.relative_to(ROOT)): b for p in files if (b := broken_links(p))}
    assert not broken, broken


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# A\n## Why: it, works?\n## A\n")
    page.write_text("# X\n[ok](there.md#a) [ok](there.md#why-it-works) [ok](there.md#a-1) "
                    "[url](https://example.org) [gone](missing.md) [top](#x) [no](#y) "
                    "[no](there.md#b) [no](there.md#a-2)")
    assert broken_links(page) == ["missing.md", "#y", "there.md#b", "there.md#a-2"]


def test_anchors_follow_github(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# The study\n### 1.1 How one image is made\n## 9. Restated (2026-12-05, "
                    "before the runs) ##\ntext\n## The study\n")
    assert anchors(page) == {"the-study", "11-how-one-image-is-made",
                             "9-restated-2026-12-05-before-the-runs", "the-study-1"}
