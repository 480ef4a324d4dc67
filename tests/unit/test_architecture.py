"""The seams of the house, enforced: import contracts over the real import graph.

The contracts live in pyproject.toml (``[tool.importlinter]``, also checked by
``.venv/bin/lint-imports``); this test checks them against the graph grimp builds
from the source, plus two rules import-linter does not express: no import cycle
between modules, and nothing but the command-line launcher imports the server.
Each rule is also fed a synthetic violation, to show it fails when it should.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter import api
from importlinter.application.use_cases import _get_built_in_contract_types
from importlinter.domain.contract import ContractCheck

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
_CONTRACT_TYPES = dict(_get_built_in_contract_types())

# The entry point that starts a server (`eventplane server`, `eventplane dev`) imports
# it; nothing else may.
_SERVER_LAUNCHERS = ("eventplane.cli",)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return api.read_configuration(str(PYPROJECT))


@pytest.fixture(scope="module")
def graph(config: dict[str, Any]) -> grimp.ImportGraph:
    """Every import, TYPE_CHECKING ones included (as the contracts see it)."""
    return grimp.build_graph(
        "eventplane",
        include_external_packages=config["session_options"].get("include_external_packages")
        == "True",
        cache_dir=None,
    )


@pytest.fixture(scope="module")
def runtime_graph() -> grimp.ImportGraph:
    """Module-level imports executed at import time: the ones that can form an import
    cycle. TYPE_CHECKING imports never run; an import inside a function runs when the
    function is called, after every module involved has loaded."""
    graph = grimp.build_graph("eventplane", exclude_type_checking_imports=True, cache_dir=None)
    return module_level(graph)


def _function_lines(module: str) -> list[tuple[int, int]]:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return []
    tree = ast.parse(Path(spec.origin).read_text())
    return [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def module_level(graph: grimp.ImportGraph) -> grimp.ImportGraph:
    """A copy of ``graph`` without the imports made only inside functions."""
    result = copy.deepcopy(graph)
    for importer in sorted(_eventplane_modules(graph)):
        functions = _function_lines(importer)
        if not functions:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            details = graph.get_import_details(importer=importer, imported=imported)
            if details and all(
                any(start < d["line_number"] <= end for start, end in functions) for d in details
            ):
                result.remove_import(importer=importer, imported=imported)
    return result


def _check(config: dict[str, Any], contract_id: str, graph: grimp.ImportGraph) -> ContractCheck:
    options = next(c for c in config["contracts_options"] if c.get("id") == contract_id)
    contract = _CONTRACT_TYPES[options["type"]](
        name=options["name"],
        session_options=config["session_options"],
        contract_options=options,
    )
    # A contract removes its ignored imports from the graph it checks: give it a copy.
    return contract.check(copy.deepcopy(graph), verbose=False)


def _with_imports(graph: grimp.ImportGraph, *imports: tuple[str, str]) -> grimp.ImportGraph:
    changed = copy.deepcopy(graph)
    for importer, imported in imports:
        changed.add_import(importer=importer, imported=imported)
    return changed


def import_cycles(graph: grimp.ImportGraph, modules: Iterable[str]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    work: list[tuple[str, list[str]]] = []  # the depth-first path, with children left to see

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        work.append((node, sorted(graph.find_modules_directly_imported_by(node))))

    for root in sorted(modules):
        if root in index:
            continue
        visit(root)
        while work:
            node, children = work[-1]
            if children:
                child = children.pop()
                if child not in index:
                    visit(child)
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def _eventplane_modules(graph: grimp.ImportGraph) -> set[str]:
    return {m for m in graph.modules if m == "eventplane" or m.startswith("eventplane.")}


def server_importers(graph: grimp.ImportGraph) -> set[str]:
    """Modules other than the launcher that import eventplane.server (or a module in it)."""
    targets = {"eventplane.server"} | {
        m for m in graph.modules if m.startswith("eventplane.server.")
    }
    importers: set[str] = set()
    for target in targets:
        importers |= graph.find_modules_that_directly_import(target)
    return {
        m
        for m in importers - targets
        if not any(m == launcher or m.startswith(launcher + ".") for launcher in _SERVER_LAUNCHERS)
    }


# --- the rules hold on the source --------------------------------------------------------


@pytest.mark.parametrize("contract_id", ["layers", "no-sdk-inside", "client"])
def test_import_contract_is_kept(
    config: dict[str, Any], graph: grimp.ImportGraph, contract_id: str
) -> None:
    check = _check(config, contract_id, graph)
    assert check.kept, (
        f"import contract {contract_id!r} broken; run .venv/bin/lint-imports to see the chains"
    )


def test_no_import_cycle_between_modules(runtime_graph: grimp.ImportGraph) -> None:
    assert import_cycles(runtime_graph, _eventplane_modules(runtime_graph)) == []


def test_nothing_but_the_launcher_imports_the_server(graph: grimp.ImportGraph) -> None:
    assert server_importers(graph) == set()


# --- and each fails on a new violation ---------------------------------------------------


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        # a capability reaching sideways into another's internals
        ("eventplane.queues.engine", "eventplane.topics.engine"),
        ("eventplane.functions.service", "eventplane.bus.engine"),
        # a lower layer reaching up into a capability or the runtime
        ("eventplane.kafka.clients", "eventplane.queues.engine"),
        ("eventplane.errors.base", "eventplane.kafka.clients"),
        ("eventplane.runtime.registry", "eventplane.functions.engine"),
        # a capability importing the server
        ("eventplane.bus.engine", "eventplane.server"),
        # the neutral rooms reaching up into a capability, the delivery layer or each other
        ("eventplane.matching.patterns", "eventplane.bus.patterns"),
        ("eventplane.messaging.attributes", "eventplane.queues.messages"),
        ("eventplane.messaging.attributes", "eventplane.delivery.payload"),
        ("eventplane.messaging.sources", "eventplane.matching.patterns"),
        # the delivery layer importing a port instead of naming it by dotted path
        ("eventplane.delivery.router", "eventplane.queues.port"),
        # the runtime or an ARN reaching up into the neutral rooms
        ("eventplane.runtime.component", "eventplane.messaging.sources"),
        ("eventplane.arn", "eventplane.errors.base"),
        # the sideways imports the neutral rooms replaced
        ("eventplane.topics.envelope", "eventplane.queues.messages"),
        ("eventplane.topics.filter_policy", "eventplane.bus.patterns"),
    ],
)
def test_layers_contract_fails_on_a_new_violation(
    config: dict[str, Any], graph: grimp.ImportGraph, importer: str, imported: str
) -> None:
    assert not _check(config, "layers", _with_imports(graph, (importer, imported))).kept


@pytest.mark.parametrize(
    "imported", ["eventplane.kafka.clients", "eventplane.queues.engine", "confluent_kafka"]
)
def test_client_contract_fails_when_the_sdk_reaches_the_server_side(
    config: dict[str, Any], graph: grimp.ImportGraph, imported: str
) -> None:
    changed = _with_imports(graph, ("eventplane.client.queues", imported))
    assert not _check(config, "client", changed).kept


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("eventplane.functions.mappings", "eventplane.client"),
        ("eventplane.bus.targets", "eventplane.client.queues"),
    ],
)
def test_capabilities_do_not_reach_each_other_through_the_sdk(
    config: dict[str, Any], graph: grimp.ImportGraph, importer: str, imported: str
) -> None:
    assert not _check(config, "no-sdk-inside", _with_imports(graph, (importer, imported))).kept


def test_the_layers_contract_has_no_exceptions(config: dict[str, Any]) -> None:
    options = next(c for c in config["contracts_options"] if c.get("id") == "layers")
    assert not options.get("ignore_imports")


def test_a_stale_ignore_entry_fails_so_an_ignore_list_only_shrinks(
    config: dict[str, Any], graph: grimp.ImportGraph
) -> None:
    # An exception for an import that does not exist (any more) breaks the check.
    stale = copy.deepcopy(config)
    options = next(c for c in stale["contracts_options"] if c.get("id") == "layers")
    options["ignore_imports"] = ["eventplane.topics.envelope -> eventplane.queues.messages"]
    with pytest.raises(Exception, match="No matches for ignored import"):
        _check(stale, "layers", graph)


def test_cycle_check_finds_a_new_cycle(runtime_graph: grimp.ImportGraph) -> None:
    changed = _with_imports(runtime_graph, ("eventplane.errors.base", "eventplane.errors"))
    cycles = import_cycles(changed, _eventplane_modules(changed))
    assert any({"eventplane.errors", "eventplane.errors.base"} <= set(c) for c in cycles)


def test_server_check_finds_a_new_importer(graph: grimp.ImportGraph) -> None:
    changed = _with_imports(graph, ("eventplane.testing.harness", "eventplane.server"))
    assert server_importers(changed) == {"eventplane.testing.harness"}


def test_imports_inside_functions_do_not_count_as_a_cycle(graph: grimp.ImportGraph) -> None:
    # intrinsics imports paths inside a function; paths imports intrinsics at module level.
    importer, imported = "eventplane.workflows.asl.intrinsics", "eventplane.workflows.asl.paths"
    assert graph.direct_import_exists(importer=importer, imported=imported)
    assert not module_level(graph).direct_import_exists(importer=importer, imported=imported)


def test_cycle_finder_on_a_small_graph() -> None:
    small = grimp.ImportGraph()
    for importer, imported in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")]:
        small.add_import(importer=importer, imported=imported)
    assert import_cycles(small, small.modules) == [["a", "b", "c"]]


# --- rooms stay small ------------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[2] / "platform" / "eventplane"
MAX_LINES = 600
# Hand-written modules still over the cap (none today). Like the ignore list above it
# can only shrink: an entry that is no longer over the cap fails the test.
_OVERSIZED: frozenset[str] = frozenset()


def _module_lengths() -> dict[str, int]:
    return {
        str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
        if "_gen" not in path.parts
    }


def test_no_new_module_over_the_line_cap() -> None:
    lengths = _module_lengths()
    over = {name for name, n in lengths.items() if n > MAX_LINES}
    assert over - _OVERSIZED == set(), f"modules over {MAX_LINES} lines"
    shrunk = {name for name in _OVERSIZED if lengths.get(name, 0) <= MAX_LINES}
    assert shrunk == set(), "no longer over the cap: remove from _OVERSIZED"
