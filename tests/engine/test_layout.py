"""The package's layout: modules import in one direction, with no cycle anywhere.

Every import counts, at module level or inside a function (a function-level
import is still a dependency, only a later one); those under ``if
TYPE_CHECKING:``, for annotations, never run and do not. Importing ``adjoint.a.b`` runs
the package ``adjoint.a`` first, so it counts as an import of that package too
(all but the top-level ``adjoint``, whose ``__init__`` only re-exports).
"""

import ast
from pathlib import Path

import adjoint

PACKAGE = Path(adjoint.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(module: str, path: Path, node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [n.name for n in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    return [f"{base}.{n.name}" if f"{base}.{n.name}" in MODULES else base for n in node.names]


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (never run)."""
    nodes, stack = [], [tree]
    while stack:
        node = stack.pop()
        test = getattr(node, "test", None) if isinstance(node, ast.If) else None
        if test is not None and "TYPE_CHECKING" in ast.unparse(test):
            stack.extend(node.orelse)
            continue
        nodes.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return nodes


def _imports(module: str) -> set[str]:
    """The adjoint modules ``module`` imports, anywhere in its source, with their packages."""
    path = MODULES[module]
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        for target in _targets(module, path, node):
            resolved = _resolve(target)
            while resolved and resolved != "adjoint":
                if resolved != module and not module.startswith(resolved + "."):
                    found.add(resolved)
                resolved = resolved.rpartition(".")[0]
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules, or None (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            for nxt in stack[-1]:
                if state.get(nxt) == 1:
                    return path[path.index(nxt) :] + [nxt]
                if nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append(iter(sorted(graph.get(nxt, ()))))
                    break
            else:
                stack.pop()
                state[path.pop()] = 2
    return None


def test_no_module_of_adjoint_imports_itself_back_through_others():
    graph = {module: _imports(module) for module in MODULES if module != "adjoint"}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_engine_sits_at_the_bottom():
    # The engine modules know nothing of the ops, the tools or the front ends.
    engine = {
        "adjoint.walk",
        "adjoint.inference",
        "adjoint.pickling",
        "adjoint.autograd",
        "adjoint.device",
    }
    for module in engine:
        assert _imports(module) <= engine, (module, _imports(module) - engine)
    assert _imports("adjoint.tensor") <= engine | {"adjoint.device"}
