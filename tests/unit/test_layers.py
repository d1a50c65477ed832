"""The layers of docs/DESIGN.md, read from the code: the domain knows no HTTP or GraphQL,
the database layer knows no domain, and the adapters do not import each other."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

# Package (by dotted prefix) → imports it may not make (dotted prefixes).
RULES = {
    "app.domain": ("fastapi", "starlette", "strawberry", "graphql", "app.api"),
    "app.db": ("app.domain", "app.api", "fastapi", "starlette", "strawberry"),
    "app.errors": ("app.domain", "app.db", "app.api"),
    "app.api.rest": ("app.api.graphql", "app.api.web"),
    "app.api.graphql": ("app.api.rest", "app.api.web"),
    "app.api.web": ("app.api.rest", "app.api.graphql"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from app.domain import errors`` imports app.domain.errors.
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _violations() -> list[str]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        module = _module_name(path)
        for owner, forbidden in RULES.items():
            if not _within(module, owner):
                continue
            for line, name in _imports(path):
                for banned in forbidden:
                    if _within(name, banned):
                        found.append(f"{path.relative_to(APP.parent)}:{line} imports {name}")
    return found


def test_layers_import_only_downwards() -> None:
    assert _violations() == []


@pytest.mark.parametrize(
    ("source", "imported"),
    [
        ("from fastapi import Request\n", "fastapi.Request"),
        ("import strawberry.types\n", "strawberry.types"),
        ("from app.api import errors\n", "app.api.errors"),
        ("from ..api.graphql import schema\n", "app.api.graphql.schema"),
    ],
)
def test_the_rules_see_every_form_of_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, imported: str
) -> None:
    """The walk reads plain, from- and relative imports alike (else the test above could
    pass by not seeing an import)."""
    fake = tmp_path / "app"
    (fake / "domain").mkdir(parents=True)
    (fake / "domain" / "leak.py").write_text(source)
    monkeypatch.setattr(__import__(__name__, fromlist=["APP"]), "APP", fake)
    assert [v.split(" imports ")[1] for v in _violations()] == [imported]


def test_design_lists_every_module_in_its_layout() -> None:
    """docs/DESIGN.md's layout names each module of app/ (GraphQL's object types by stem)."""
    design = (APP.parent / "docs" / "DESIGN.md").read_text()
    layout = design.split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = []
    for path in sorted(APP.rglob("*.py")):
        relative = path.relative_to(APP)
        if path.name == "__init__.py" and relative.parent != Path():
            continue
        if relative.parts[:2] == ("db", "migrations"):
            continue
        types = relative.parts[:3] == ("api", "graphql", "types")
        if (path.stem if types else path.name) not in layout:
            missing.append(str(relative))
    assert missing == []
    assert "```mermaid" in design
