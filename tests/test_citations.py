"""Every citation in the repository resolves inside it.

Scanned: the README, docs/**/*.md and the Python of src/, tests/, benchmarks/, tools/ and
examples/. A citation dangles when it names

- ``SPEC`` (the study's specification is not in the repository: cite docs/protocol.md);
- a section ``doc.md §N`` (or ``§N E1``, ``§N R2``) that the document's headings or bold
  labels do not number; a bare ``§N`` cites, in Markdown, the page itself, and in Python the
  document named last before it in the same paragraph (none named: it dangles);
- a repository path (``docs/…``, ``src/…``, ``tests/…``, ``benchmarks/…``, ``tools/…``,
  ``examples/…``, ``.ci/…``) that does not exist (``*`` and ``YYYY-MM-DD`` are wildcards
  that must match something);
- an issue tracker (``issue 6``, ``GitHub issue #6``, ``PR 12``, ``the issue's case``),
  which the repository does not hold: describe the case instead.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = ("README.md", "docs/**/*.md", "src/**/*.py", "tests/**/*.py", "benchmarks/**/*.py",
            "tools/**/*.py", "examples/**/*.py")
# This file's own test data are dangling citations on purpose.
EXEMPT = {Path(__file__).resolve()}

SEC = r"[A-Z]?\d+(?:\.\d+)*"
DOC = r"[\w./-]*\w\.md"
# A section citation, its document optional; line breaks and comment marks may split it.
SECTION = re.compile(rf"(?:(?<![\w./-])(?P<doc>{DOC})[\s#]*)?§\s*(?P<sec>{SEC})"
                     rf"(?:\s+(?P<sub>[A-Z]\d+)\b)?")
NAMED_DOC = re.compile(rf"(?<![\w./-]){DOC}\b")
SPEC = re.compile(r"\bSPEC\b")
PATH = re.compile(r"(?<![\w./-])(?:docs|src|tests|benchmarks|tools|examples|\.ci)/[\w./*-]*")
ISSUE = re.compile(r"\b(?:GitHub\s+)?(?:issues?|PR|pull\s+request)\s+#?\d+\b"
                   r"|\bthe\s+issue(?:'s)?(?!\w)", re.IGNORECASE)
PARAGRAPH_BREAK = re.compile(r"\n[ \t#]*\n")
HEADING = re.compile(rf"^#+\s+(?P<id>{SEC})\.?(?=\s|$)", re.MULTILINE)
LABEL = re.compile(r"^(?:###+\s+|\*\*)(?P<id>[A-Z]\d+)\.?(?=[\s*]|$)", re.MULTILINE)


def scanned_files(root: Path = ROOT) -> list[Path]:
    files = {p.resolve() for pattern in PATTERNS for p in root.glob(pattern) if p.is_file()}
    return sorted(files - EXEMPT)


def sections(doc: Path) -> set[str]:
    """The section ids of a Markdown ``doc``: numbered headings (``## 9.``, ``### 1.1``,
    ``## E3``) and, within a numbered top-level section ``N``, labels as ``"N E1"`` (a
    heading ``### E1.`` or a bold ``**R2.**``)."""
    ids: set[str] = set()
    top = ""
    for line in doc.read_text(encoding="utf-8").splitlines():
        if m := HEADING.match(line):
            ids.add(m["id"])
            top = m["id"] if line.startswith("## ") else top
        if (m := LABEL.match(line)) and top:
            ids.add(f"{top} {m['id']}")
    return ids


def resolve(doc: str, citing: Path, root: Path) -> Path | None:
    """A cited document, relative to the repository root or to the citing file."""
    for base in (root, citing.parent):
        if (base / doc).is_file():
            return base / doc
    return None


def cited_doc(text: str, m: re.Match, path: Path) -> str | None:
    """The document a section citation names: its own, else the citing Markdown page, else
    (Python) the one named last before it in the paragraph."""
    if m["doc"]:
        return m["doc"]
    if path.suffix == ".md":
        return path.name
    start = max((b.end() for b in PARAGRAPH_BREAK.finditer(text, 0, m.start())), default=0)
    named = NAMED_DOC.findall(text[start:m.start()])
    return named[-1] if named else None


def section_problem(text: str, m: re.Match, path: Path, root: Path) -> str | None:
    doc = cited_doc(text, m, path)
    if doc is None:
        return "a bare § in Python names no document"
    target = resolve(doc, path, root)
    if target is None:
        return f"{doc} is not in the repository"
    ids = sections(target)
    for want in filter(None, (m["sec"], m["sub"] and f"{m['sec']} {m['sub']}")):
        if want not in ids:
            return f"{doc} has no section §{want}"
    return None


def path_exists(token: str, root: Path) -> bool:
    token = token.rstrip(".").replace("YYYY-MM-DD", "*")
    if "*" in token:
        return any(root.glob(token))
    return (root / token).exists()


def dangling(path: Path, root: Path = ROOT) -> list[str]:
    """``"line: citation (why)"`` for each citation of ``path`` that does not resolve."""
    text = path.read_text(encoding="utf-8")
    found: dict[int, tuple[str, str]] = {}  # offset -> (citation, why); the first kind wins
    for m in SPEC.finditer(text):
        found.setdefault(m.start(), (m[0], "SPEC is not in the repository; cite docs/protocol.md"))
    for m in SECTION.finditer(text):
        if why := section_problem(text, m, path, root):
            found.setdefault(m.start(), (m[0], why))
    for m in PATH.finditer(text):
        if not path_exists(m[0], root):
            found.setdefault(m.start(), (m[0], "no such path"))
    for m in ISSUE.finditer(text):
        found.setdefault(m.start(), (m[0], "an issue tracker is not in the repository"))
    return [f"{text.count(chr(10), 0, at) + 1}: {' '.join(cite.split())} ({why})"
            for at, (cite, why) in sorted(found.items())]


def test_every_citation_resolves():
    files = scanned_files()
    assert ROOT / "docs" / "protocol.md" in files and ROOT / "tests" / "conftest.py" in files
    bad = {str(p.relative_to(ROOT)): d for p in files if (d := dangling(p))}
    assert not bad, bad


def test_sections_read_numbered_headings_and_labels(tmp_path):
    doc = tmp_path / "p.md"
    doc.write_text("# Title\n## 1. One\n### 1.1 Sub\n### E1. Case\n## 2. Two\n**R1.** x\n"
                   "**R2. Named** y\n## E3 (unnumbered top)\n")
    assert sections(doc) == {"1", "1.1", "1 E1", "E1", "2", "2 R1", "2 R2", "E3"}


def fake_tree(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "p.md").write_text("## 1. One\n### E1. Case\n## 2. Two\n**R1.** x\n")
    (tmp_path / "docs" / "state-2026-12-06.tar.gz").write_text("")
    (tmp_path / "tests").mkdir()
    return tmp_path


def test_resolving_citations_pass(tmp_path):
    root = fake_tree(tmp_path)
    good = root / "tests" / "good.py"
    good.write_text('"""docs/p.md §1 E1 and §2 R1;\n   docs/p.md\n   §2, docs/state-YYYY-MM-DD'
                    '.tar.gz, docs/*.md, tests/good.py.\n\nSPEC_FORMAT, RunSpec, issues."""\n')
    page = root / "docs" / "q.md"
    page.write_text("## 3. Three\nAs in §3 above; p.md §2.\n")
    assert dangling(good, root) == [] and dangling(page, root) == []


def test_each_kind_of_dangling_citation_is_found(tmp_path):
    root = fake_tree(tmp_path)
    bad = root / "tests" / "bad.py"
    bad.write_text("# SPEC §4 and docs/p.md §9, docs/p.md §1 R1, docs/gone.md §1\n#\n"
                   "# docs/gone.md, benchmarks/x.py, tests/*.txt, §2; docs/p.md §1, §3\n"
                   '"""The issue\'s case (GitHub issue 6); issue #7, PR 12."""\n')
    assert dangling(bad, root) == [
        "1: SPEC (SPEC is not in the repository; cite docs/protocol.md)",
        "1: §4 (a bare § in Python names no document)",
        "1: docs/p.md §9 (docs/p.md has no section §9)",
        "1: docs/p.md §1 R1 (docs/p.md has no section §1 R1)",
        "1: docs/gone.md §1 (docs/gone.md is not in the repository)",
        "3: docs/gone.md (no such path)",
        "3: benchmarks/x.py (no such path)",
        "3: tests/*.txt (no such path)",
        "3: §2 (docs/gone.md is not in the repository)",
        "3: §3 (docs/p.md has no section §3)",
        "4: The issue's (an issue tracker is not in the repository)",
        "4: GitHub issue 6 (an issue tracker is not in the repository)",
        "4: issue #7 (an issue tracker is not in the repository)",
        "4: PR 12 (an issue tracker is not in the repository)",
    ]
    page = root / "docs" / "q.md"
    page.write_text("## 3. Three\n\nAfter docs/p.md §1, a bare §2 is this page's.\n")
    assert dangling(page, root) == ["3: §2 (q.md has no section §2)"]
