"""A griffe extension: adjoint's reST-flavoured docstrings, rendered as Markdown.

adjoint's docstrings are written for ``help()`` and for reading in an editor, in
the reST idiom of the scientific Python stack: Sphinx roles (``:func:`grad```),
double-backquoted code, ``>>>`` examples and ``::`` literal blocks. mkdocstrings
renders docstrings as Markdown, where double backquotes already make code and
indented blocks already make literal blocks; this extension translates the rest,
once the whole package is loaded (so that relative names can be resolved):

* a role becomes a cross-reference (``[grad][adjoint.functional.grad]``) when its
  target resolves to an object the API pages render (public, in a public
  module), and plain code otherwise (a private helper such as ``_plan``);
  a target that resolves to nothing at all is recorded in :data:`UNRESOLVED`,
  which the site's build hook reports as a warning (an error under ``--strict``);
* a paragraph of ``>>>`` lines becomes a fenced ``pycon`` block;
* a paragraph ending in ``::`` ends in ``:`` (reST's literal-block marker);
* a ``#:`` comment above an attribute becomes its docstring, and instance
  attributes with neither (``self.x = x`` in ``__init__``) are left out, as are
  undocumented methods whose base class documents them (every op's
  ``compute`` and ``gradient``: their contract is on ``Op``).
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(mod|func|class|meth|data|attr|exc|obj):`([^`]+)`")
#: Roles naming these packages' objects are shown as code (the site does not link outside).
EXTERNAL = {"numpy", "np", "sympy", "jax", "torch", "math", "builtins", "typing", "functools"}
#: The instance attributes left out of the pages, by path: a role naming one shows as code.
_HIDDEN: dict[str, griffe.Object] = {}
#: (object path, role text) of every role whose target resolves to nothing.
UNRESOLVED: list[tuple[str, str]] = []


def _lookup(collection: Any, path: str) -> griffe.Object | None:
    if path in _HIDDEN:
        return _HIDDEN[path]
    try:
        obj = collection[path]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    try:
        return obj.final_target if obj.is_alias else obj
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _rendered(obj: griffe.Object) -> bool:
    """Whether the API pages show ``obj`` under its own path (and so can link to it)."""
    parts = obj.path.split(".")
    if obj.path in _HIDDEN or any(p.startswith("_") for p in parts):
        return False
    node: griffe.Object | None = obj
    while node is not None and not node.is_module:
        if not node.is_public:
            return False
        node = node.parent
    return True


def resolve(target: str, scope: griffe.Object, collection: Any) -> griffe.Object | None:
    """The object ``target`` names when written in ``scope``'s docstring (Sphinx's search)."""
    target = target.lstrip(".").removesuffix("()")
    here: griffe.Object | None = scope
    while here is not None:
        found = _lookup(collection, f"{here.path}.{target}")
        if found is not None:
            return found
        here = here.parent
    found = _lookup(collection, target)
    if found is None and target.startswith("adjoint."):
        # A name that static analysis cannot see (re-exported by a star import whose
        # ``__all__`` is built by concatenation): ask the imported package where it lives.
        value = _import(target)
        module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
        if isinstance(module, str) and isinstance(qualname, str):
            found = _lookup(collection, f"{module}.{qualname}")
    return found


def _import(path: str) -> Any:
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for part in parts[i:]:
                value = getattr(value, part)
        except AttributeError:
            return None
        return value
    return None


def translate(text: str, scope: griffe.Object, collection: Any) -> str:
    """``text`` (one docstring) with roles, examples and literal markers made Markdown."""

    def role(match: re.Match[str]) -> str:
        raw = match.group(2).strip()
        title = None
        if raw.endswith(">") and "<" in raw:  # :func:`the title <path>`
            title, raw = raw[:-1].split("<", 1)
            title = title.strip()
        short = raw.startswith("~")
        raw = raw.lstrip("~!")
        shown = title or (raw.rsplit(".", 1)[-1] if short else raw)
        found = resolve(raw, scope, collection)
        if found is None:
            parts = raw.lstrip(".").removesuffix("()").split(".")
            external = EXTERNAL | sys.stdlib_module_names
            owner = resolve(".".join(parts[:-1]), scope, collection) if len(parts) > 1 else None
            if owner is not None and owner.is_class:
                pass  # an attribute set outside __init__: static analysis cannot see it
            elif parts[0] not in external and not any(p.startswith("_") for p in parts):
                UNRESOLVED.append((scope.path, match.group(0)))
            return f"`{shown}`"
        if _rendered(found):
            return f"[`{shown}`][{found.path}]"
        return f"`{shown}`"

    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(">>>") and (i == 0 or not lines[i - 1].strip()):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent) :])
                i += 1
            out += [f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"]
            continue
        if line.rstrip().endswith("::") and not line.strip().startswith(">>>"):
            stripped = line.rstrip()[:-2].rstrip()
            line = stripped + ":" if stripped else ""
        out.append(ROLE.sub(role, line))
        i += 1
    return "\n".join(out)


def _comment(obj: griffe.Object, loader: griffe.GriffeLoader) -> str | None:
    """The ``#:`` comment above an attribute (Sphinx's way to document one), if any."""
    if obj.lineno is None or obj.filepath is None:
        return None
    try:
        lines = loader.lines_collection[obj.filepath]
    except KeyError:
        return None
    found = []
    i = obj.lineno - 2
    while i >= 0 and lines[i].strip().startswith("#:"):
        found.append(lines[i].strip()[2:].strip())
        i -= 1
    return "\n".join(reversed(found)) or None


class ReSTDocstrings(griffe.Extension):
    """Translate every docstring of the package once it is completely loaded."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        objects = _objects(pkg)
        for obj in objects:  # first settle what is shown, then link to it
            if obj.is_class:
                for name, member in list(obj.members.items()):
                    if (
                        not member.is_alias
                        and member.is_attribute
                        and "instance-attribute" in member.labels
                        and member.docstring is None
                        and _comment(member, loader) is None
                    ):
                        _HIDDEN[member.path] = member  # an implementation field (self.x = x)
                        del obj.members[name]
                    elif (
                        not member.is_alias
                        and member.is_function
                        and member.docstring is None
                        and _inherited_doc(obj, name)
                    ):
                        _HIDDEN[member.path] = member  # an op's compute/gradient: see the base
                        del obj.members[name]
            if obj.docstring is None and obj.is_attribute:
                comment = _comment(obj, loader)
                if comment is not None:
                    obj.docstring = griffe.Docstring(comment, parent=obj)
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = translate(obj.docstring.value, obj, loader.modules_collection)


def _inherited_doc(cls: griffe.Class, name: str) -> bool:
    """Whether a base class of ``cls`` documents a method ``name`` (the contract it fulfils)."""
    try:
        bases = cls.mro()
    except Exception:  # a base outside the package: nothing to read
        return False
    return any(name in base.members and base.members[name].docstring for base in bases)


def _objects(root: griffe.Object) -> list[griffe.Object]:
    """``root`` and every object defined under it (not the names it imports)."""
    found, stack, seen = [], [root], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        found.append(obj)
        stack.extend(m for m in obj.members.values() if not m.is_alias)
    return found
