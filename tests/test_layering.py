"""The package's layering: production code never reaches the demo, lower layers never import upper ones.

Imports are read from the source (including imports inside functions), so a
lazy import against the layering fails here as well.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "algharb"

# Stage code: what a paper run executes. It may use the shared base modules
# (io, prompts, models, registry, config) but never the demo world.
PRODUCTION = ["data", "decode", "metrics", "train", "generation", "collab"]
# A module may import its own layer and the layers below it, never above.
LAYERS = {
    "data": 1, "metrics": 1, "generation": 1,
    "decode": 2, "train": 2, "collab": 2,
    "steps": 3, "report": 3,
    "cli": 4,
}


def _modules(name: str) -> list[Path]:
    path = PACKAGE / name
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


def _imported(path: Path, root: Path = PACKAGE) -> set[str]:
    """Absolute names of every algharb module ``path`` (a file under ``root``) imports."""
    package = path.relative_to(root.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] == "algharb"}


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("area", PRODUCTION)
def test_production_code_never_imports_the_demo(area):
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules(area)
        for name in _imported(path)
        if _top(name) == "demo"
    ]
    assert not offenders, offenders


@pytest.mark.parametrize("area", sorted(LAYERS))
def test_no_import_runs_up_the_layers(area):
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules(area)
        for name in _imported(path)
        if LAYERS.get(_top(name), 0) > LAYERS[area]
    ]
    assert not offenders, offenders


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    fake = tmp_path / "algharb" / "data" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from ..demo.world import generate_world\n    import algharb.steps.data\n")
    names = _imported(fake, root=tmp_path / "algharb")
    assert "algharb.demo.world" in names and "algharb.steps.data" in names
