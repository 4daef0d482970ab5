"""The module map of `workers` and `pipelines`, from their source: modules per package, layers, import cycles.

    python scripts/module_map.py          prints ``package: N modules`` per package, the layer violations and the
                                          import cycles (``cycles: none``); exit 1 if there is a violation or a cycle

Imports are read with `ast` (nothing is imported): every ``import`` and ``from … import`` anywhere in a module,
inside functions and ``if TYPE_CHECKING:`` too, since a lazy import is still a dependency. ``from a import b``
counts as an import of ``a.b`` when ``a.b`` is a module, else of ``a``.

Layers (../shared/DESIGN.md, "The map as it grows"): a module may import modules of its own layer or below,
never above. `tests/unit/test_layers.py` holds the project to this table.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipelines", "workers")

# module prefix → layer; the longest prefix that names a module or one of its packages wins.
LAYERS: dict[str, int] = {
    "pipelines": 0,
    "workers": 0,  # the root package itself only draws the map (it imports nothing)
    "workers.errors": 0, "workers.exitcodes": 0, "workers.keys": 0, "workers.settings": 0,
    "workers.fingerprint": 0,
    "workers.jobs": 1,
    "workers.store": 2, "workers.storage": 2,
    "workers.queue": 3,  # names, app, message, send, routing (queue_for); the rest of queue/ is L5, below
    "workers.publish": 3, "workers.metrics": 3, "workers.webhooks": 3, "workers.preview": 3,
    "workers.delivery": 4,
    "workers.queue.tasks": 5, "workers.queue.control": 5, "workers.queue.depth": 5, "workers.queue.demand": 5,
    "workers.queue.drain": 5, "workers.intake": 5, "workers.api": 5,
    "workers.metrics.exporter": 5,  # the exporter reads the broker's queue depth and the demand (L5)
    "workers.cli": 6, "workers.autoscale": 6,
}
# what pipelines must never import: it is the media core, the fleet is built on it (DESIGN.md)
PIPELINES_FORBIDDEN = ("workers", "celery", "kombu", "boto3", "botocore", "docker", "prometheus_client", "redis")


def modules(root: Path = ROOT) -> dict[str, Path]:
    """{dotted module name: source file} for every module of `PACKAGES` (a package is its ``__init__``)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(path: Path, name: str, known: set[str]) -> Iterator[str]:
    """The modules `name` (at `path`) imports: ours resolved to modules in `known`, others by their top name."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, `level` steps up
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield sub if sub in known else base


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """{module: the modules it imports} (ours: dotted module names; others: as written)."""
    found = modules(root)
    known = set(found)
    return {name: {m for m in imported(path, name, known) if m != name} for name, path in found.items()}


def layer_of(module: str) -> int | None:
    """The layer of one of our modules (longest matching prefix in `LAYERS`), or None if none matches."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYERS and (n > 1 or prefix in (module, "pipelines")):
            return LAYERS[prefix]
    return None


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Every import that goes up a layer, every pipelines import of the fleet's libraries, every unmapped module."""
    found: list[str] = []
    for module, targets in sorted(edges.items()):
        layer = layer_of(module)
        if layer is None:
            found.append(f"{module}: in no layer (add it to LAYERS in scripts/module_map.py)")
            continue
        for target in sorted(targets):
            if module.startswith("pipelines") and target.split(".")[0] in PIPELINES_FORBIDDEN:
                found.append(f"{module} imports {target}: pipelines imports nothing of the fleet")
            elif target in edges and (up := layer_of(target)) is not None and up > layer:
                found.append(f"{module} (L{layer}) imports {target} (L{up})")
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles among our modules: each strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(edges)))
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def package_counts(names: set[str]) -> dict[str, int]:
    """{package: modules directly in it (its ``__init__`` included)}."""
    found = modules()
    counts: dict[str, int] = {}
    for name in names:
        package = name if found[name].name == "__init__.py" else name.rpartition(".")[0]
        counts[package] = counts.get(package, 0) + 1
    return dict(sorted(counts.items()))


def main() -> int:
    edges = graph()
    for package, count in package_counts(set(edges)).items():
        print(f"{package}: {count} modules")
    bad = violations(edges)
    found = cycles(edges)
    print(f"modules: {len(edges)}")
    print("layer violations: " + ("none" if not bad else str(len(bad))))
    for line in bad:
        print(f"  {line}")
    print("cycles: " + ("none" if not found else str(len(found))))
    for component in found:
        print("  " + " ↔ ".join(component))
    return 1 if bad or found else 0


if __name__ == "__main__":
    sys.exit(main())
