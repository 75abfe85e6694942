"""The documentation site's sources are complete (cheap checks; the build itself is in .ci/run).

Every course notebook is in mkdocs.yml's navigation, every public module of the
package gets an API page, and the README sections the site includes are still
marked in the README. Building the site (``mkdocs build --strict``) checks far
more, but runs the notebooks; these checks take a second. Skipped when the
``docs`` extra (MkDocs) is not installed.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import re
from pathlib import Path

import pytest

mkdocs_utils = pytest.importorskip("mkdocs.utils")

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def config() -> dict:
    with open(ROOT / "mkdocs.yml", encoding="utf-8") as file:
        return mkdocs_utils.yaml_load(file)


def hook():
    spec = importlib.util.spec_from_file_location("adjoint_docs_pages", DOCS / "_hooks/pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nav_pages(entries) -> list[str]:
    """Every page path in a MkDocs nav (a list of strings and one-key dicts, nested)."""
    pages = []
    for entry in entries:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_nav_lists_every_notebook_in_order():
    nav = config()["nav"]
    course = next(e["The course"] for e in nav if isinstance(e, dict) and "The course" in e)
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) == 8
    assert nav_pages(course) == [f"notebooks/{name}" for name in notebooks]


def test_nav_pages_exist():
    """Every page the nav names is a file in docs/, a notebook or a generated API page."""
    for page in nav_pages(config()["nav"]):
        if page.startswith("api/"):
            continue  # generated, and replaced by the hook's list (next test)
        assert (DOCS / page).exists() or (ROOT / page).exists(), page


def test_every_public_module_has_an_api_page():
    """Found by importing the package and walking it, independently of the hook's file walk."""
    import adjoint

    public = {"adjoint"} | {
        info.name
        for info in pkgutil.walk_packages(adjoint.__path__, "adjoint.")
        if not any(part.startswith("_") for part in info.name.split("."))
    }
    site = hook()
    pages = set(nav_pages(site.api_nav(site.api_modules())))
    assert {f"api/{name}.md" for name in public} <= pages
    named = ["ops", "functional", "nn", "optim", "data", "init", "symbolic", "graph", "compiler"]
    assert {f"api/adjoint.{name}.md" for name in named} <= pages
    assert "api/adjoint.md" in pages  # every name of `ad`


def test_included_readme_sections_are_marked():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    included = set()
    for page in DOCS.glob("*.md"):
        included |= set(re.findall(r'--8<-- "README\.md:([\w-]+)"', page.read_text()))
    assert included, "the site includes no README section"
    for name in included:
        start, end = f"<!-- --8<-- [start:{name}] -->", f"<!-- --8<-- [end:{name}] -->"
        assert start in readme and end in readme and readme.index(start) < readme.index(end), name
