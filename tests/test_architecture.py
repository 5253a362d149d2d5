"""The picture of the code is the architecture: every import follows an allowed arrow, and none is circular.

Every module's imports are read with `ast` — those at the top, inside functions and under
`TYPE_CHECKING` alike (a circle hidden there is still a circle, only a missing module) — and checked
against the arrows of docs/architecture.md.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("cadenza", "model", "training", "render", "ingest", "bot", "web", "launch")
# package -> the packages of ours it may import (itself always). docs/architecture.md draws these.
ALLOWED: dict[str, set[str]] = {
    "cadenza": set(),
    "model": {"cadenza"},
    "render": {"cadenza"},
    "ingest": {"cadenza"},
    "training": {"model", "cadenza"},
    "bot": {"model", "render", "ingest", "cadenza"},
    "web": {"bot", "render", "cadenza"},  # the pages read the bot's storage; the entry package starts them
    "launch": set(PACKAGES),
}
# `python -m bot` is a script kept for operators: it runs the `cadenza` command and nothing imports it.
SCRIPTS = {"bot.__main__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of our packages, by dotted name."""
    return {module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The modules of ours that `name` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` of a name inside a module
                target = target.rpartition(".")[0]
            if target:
                yield target


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imported(name, path, known)) - {name} for name, path in known.items()}


def top(name: str) -> str:
    return name.partition(".")[0]


def test_every_import_follows_an_allowed_arrow(graph: dict[str, set[str]]) -> None:
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in graph.items()
        if name not in SCRIPTS
        for target in targets
        if top(target) != top(name) and top(target) not in ALLOWED[top(name)]
    )
    assert wrong == []


def test_no_module_imports_itself_round_a_circle(graph: dict[str, set[str]]) -> None:
    circles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    assert circles == []


def test_the_discord_front_never_reaches_training(graph: dict[str, set[str]]) -> None:
    reach, todo = set(), [m for m in graph if top(m) == "bot" and m not in SCRIPTS]
    while todo:
        for target in graph[todo.pop()]:
            if target not in reach:
                reach.add(target)
                todo.append(target)
    assert {top(m) for m in reach} <= ALLOWED["bot"] | {"bot"}


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively (the module graph is deep enough to hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    found.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_circle_finder_finds_a_known_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(sorted(c) for c in strongly_connected(graph) if len(c) > 1) == [["a", "b", "c"]]


def test_reading_config_and_the_train_command_load_no_audio_stack() -> None:
    """`cadenza train` runs on a GPU machine with torch, numpy and the tokenizer only: config loading and
    the command's imports must not pull in scipy, librosa, FluidSynth or pretty_midi."""
    import subprocess
    import sys

    code = (
        "import sys, launch.cli, training.trainer; launch.cli.build_parser(['train']); "
        "print(sorted(m for m in ('scipy', 'librosa', 'fluidsynth', 'pretty_midi', 'pydub', 'discord') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
