"""``t2d report OUT --html``: one self-contained page, opened in a real headless browser
(Debian's chromium): every figure decodes, tables sort on the page, verdicts are coloured."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from transforms2d.cli import app
from transforms2d.reporting.html import inline_markdown, markdown_blocks, table_html

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no headless browser (apt-get install chromium; .ci/run installs it)")


def dom(url: str) -> str:
    """The page's DOM after its scripts ran, from headless chromium."""
    res = subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-dev-shm-usage", "--virtual-time-budget=10000",
                          "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


@pytest.fixture(scope="module")
def page(demo_reference, tmp_path_factory, runner):
    out = tmp_path_factory.mktemp("html") / "demo"
    shutil.copytree(demo_reference, out)
    res = runner.invoke(app, ["report", str(out), "--html"])
    assert res.exit_code == 0, res.output
    return out / "report.html"


def test_the_page_is_self_contained(page):
    text = page.read_text()
    assert "src=\"data:image/png;base64," in text
    assert not re.search(r"(src|href)=\"(https?:|//|figures/)", text)  # nothing fetched


def test_figures_load_and_tables_sort_in_a_real_browser(page):
    html = dom(page.as_uri())
    n_img = len(re.findall(r"<img ", html))
    assert n_img >= 1
    assert f'data-figures-loaded="{n_img}"' in html
    assert "class=\"verdict\"" in html
    sorted_dom = dom(page.as_uri() + "#selftest")
    order = re.search(r'data-selftest="([^"]*)"', sorted_dom).group(1).split("|")
    keys = [float(v) if re.fullmatch(r"-?[\d.]+(e-?\d+)?", v) else v.lower() for v in order]
    assert keys == sorted(keys)


def test_markdown_and_tables_are_escaped():
    assert inline_markdown("**a** `b<c>` [x](y.md)") == \
        '<strong>a</strong> <code>b&lt;c&gt;</code> <a href="y.md">x</a>'
    assert markdown_blocks("- one\n- two\n\n# Title") == \
        "<ul><li>one</li><li>two</li></ul>\n<h2>Title</h2>"
    assert '<td data-v="0.5">0.5</td>' in table_html(["a"], [[0.5]])
    assert "<td>&lt;b&gt;</td>" in table_html(["a"], [["<b>"]])
