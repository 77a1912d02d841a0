"""Every relative link of the README and of docs/ (Markdown ``[text](target)``) names a file or
folder that exists in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def broken_links(path: Path) -> list[str]:
    out = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        file = target.split("#", 1)[0]
        if not file or re.match(r"^[a-z]+:", file):  # an anchor on the page, or a URL
            continue
        if not (path.parent / file).exists():
            out.append(target)
    return out


def test_every_relative_link_resolves():
    files = markdown_files()
    assert len(files) > 5 and (ROOT / "docs" / "api.md") in files
    broken = {str(p.relative_to(ROOT)): b for p in files if (b := broken_links(p))}
    assert not broken, broken


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("x")
    page.write_text("[ok](there.md#a) [url](https://example.org) [gone](missing.md) [top](#x)")
    assert broken_links(page) == ["missing.md"]
