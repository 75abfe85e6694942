"""MkDocs hook: the pages the site builds from the repository rather than from docs/.

* The course notebooks are read where they live, ``notebooks/NN_*.ipynb``
  (mkdocs-jupyter executes them during the build).
* The API reference has one page per public module of the package, found by
  walking ``adjoint/`` (so a module added tomorrow gets its page, and its nav
  entry, with no edit here). A page renders the objects the module defines and
  lists, with links, the names it re-exports from elsewhere; ``api/adjoint.md``
  lists every name reachable as ``ad.<name>``.
* MathJax, which typesets the notebooks' formulas, is served from the site
  (``assets/mathjax/``) rather than a CDN, so a reader offline sees formulas.
* A Sphinx role in a docstring that resolves to nothing is reported as a
  warning (an error under ``mkdocs build --strict``).

``api_modules()`` and ``api_nav()`` are also read by ``tests/docs/test_site.py``.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "adjoint"
NOTEBOOKS = ROOT / "notebooks"
NAV_PLACEHOLDER = "API reference"

log = logging.getLogger("mkdocs.hooks.adjoint")
_pages: dict[str, str] = {}


def api_modules() -> list[str]:
    """Every public module and package of adjoint, sorted (``adjoint`` first)."""
    names = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        if any(p.startswith("_") for p in parts):
            continue
        names.append(".".join(parts))
    return sorted(names)


def api_nav(modules: list[str]) -> list:
    """The nav entries of the API reference: a section per package, a page per module."""
    entries: list = [{"Every public name (adjoint)": "api/adjoint.md"}]
    packages = {m for m in modules if (ROOT / m.replace(".", "/") / "__init__.py").exists()}
    for name in modules:
        if name == "adjoint" or name.count(".") > 1 and name.rsplit(".", 1)[0] in packages:
            continue
        if name in packages:
            children = [m for m in modules if m.rsplit(".", 1)[0] == name and m != name]
            entries.append(
                {name: [{name: f"api/{name}.md"}, *({m: f"api/{m}.md"} for m in children)]}
            )
        else:
            entries.append({name: f"api/{name}.md"})
    return entries


def _load():
    import griffe

    sys.path.insert(0, str(Path(__file__).parent))
    import rest_docstrings

    rest_docstrings.UNRESOLVED.clear()
    package = griffe.load(
        "adjoint",
        search_paths=[str(ROOT)],
        extensions=griffe.load_extensions(rest_docstrings.ReSTDocstrings),
        docstring_parser=None,
        resolve_aliases=True,
        resolve_external=False,
    )
    return package, list(rest_docstrings.UNRESOLVED)


def _in_package(alias) -> str | None:
    """The canonical path of an alias's object, when that object is adjoint's."""
    try:
        target = alias.final_target
    except Exception:
        return None
    return target.path if target.path.split(".")[0] == "adjoint" else None


def canonical_path(obj) -> str | None:
    """Where a class or function is defined (``adjoint.ops.elementwise.sin``), if adjoint's."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not (isinstance(module, str) and isinstance(qualname, str)) or "<" in qualname:
        return None
    return f"{module}.{qualname}" if module.split(".")[0] == "adjoint" else None


def _shown_at_home(path: str) -> bool:
    """Whether the page of the module that defines ``path`` shows it."""
    home, name = path.rsplit(".", 1)
    if any(part.startswith("_") for part in path.split(".")):
        return False
    try:
        live = importlib.import_module(home)
    except ImportError:  # a class member (Class.method): shown with its class
        return _shown_at_home(home)
    exports = getattr(live, "__all__", None)
    return name in exports if exports is not None else True


def _module_page(module, is_top: bool) -> str:
    """``::: module`` for what it defines, then links to what it re-exports.

    A module's names are its ``__all__`` where it has one (read from the
    imported module: several are built by concatenation, which static analysis
    cannot follow); otherwise its public definitions (its imports are then its
    own business), except for the package itself, whose every public name is
    part of ``ad.<name>``.
    """
    live = importlib.import_module(module.path)
    names = getattr(live, "__all__", None)
    if names is None:
        names = [n for n in vars(live) if not n.startswith("_")]
    local, exported = [], defaultdict(list)
    for name in names:
        member = module.members.get(name)
        if member is not None and not member.is_alias:
            if not member.is_module:
                local.append(name)
            continue
        value = getattr(live, name)
        if inspect.ismodule(value) or (not is_top and getattr(live, "__all__", None) is None):
            continue
        path = canonical_path(value)
        if path is None and member is not None:
            path = _in_package(member)
        if path is None:
            log.warning("%s.%s: cannot tell where it is defined", module.path, name)
            continue
        if _shown_at_home(path):
            exported[path.rsplit(".", 1)[0]].append((name, path))
        else:  # defined where it is not public (a module's constant): shown here
            local.append(name)
    order = list(module.members)
    local.sort(key=lambda name: order.index(name) if name in order else len(order))
    members = "[" + ", ".join(local) + "]" if local else "false"
    text = [f"::: {module.path}", "    options:", f"      members: {members}", ""]
    if is_top:
        text.append("## Every name of `ad`\n")
        text.append(
            "Every public name reachable as `ad.<name>` after `import adjoint as ad`, "
            "grouped by the module that defines it (where its documentation is).\n"
        )
    elif exported:
        text.append("## Re-exported here\n")
    for source in sorted(exported):
        links = ", ".join(
            f"[`{name}`][{path}]"
            for name, path in sorted(exported[source], key=lambda pair: pair[0].lower())
        )
        text.append(f"From [`{source}`][{source}]: {links}.\n")
    return "\n".join(text)


def _is_module_alias(member) -> bool:
    try:
        return member.final_target.is_module
    except Exception:
        return False


def on_config(config):
    modules = api_modules()
    for i, item in enumerate(config["nav"]):
        if isinstance(item, dict) and NAV_PLACEHOLDER in item:
            config["nav"][i] = {NAV_PLACEHOLDER: api_nav(modules)}
    package, unresolved = _load()
    for where, role in unresolved:
        log.warning("docstring of %s: %s names nothing in adjoint", where, role)
    _pages.clear()
    for name in modules:
        module = package if name == "adjoint" else package[name.removeprefix("adjoint.")]
        _pages[f"api/{name}.md"] = _module_page(module, name == "adjoint")
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    for path, content in _pages.items():
        files.append(File.generated(config, path, content=content))
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    mathjax = _mathjax_dir()
    for path in sorted(mathjax.rglob("*")):
        if path.is_file():
            uri = f"assets/mathjax/{path.relative_to(mathjax).as_posix()}"
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def _mathjax_dir() -> Path:
    """MathJax 2.7, as the jupyter-server-mathjax package ships it (the docs extra has it)."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


# Before mkdocs-jupyter's on_files, which takes over the .ipynb files it is shown.
on_files.mkdocs_priority = 100  # what mkdocs.plugins.event_priority(100) sets
