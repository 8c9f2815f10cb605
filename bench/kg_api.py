"""The parts of kg the benchmark calls that are still being written (validate, store, query).

kg's exporter internals (`kg.read.sources`, `kg.map.curation`, `kg.write`, `kg.pipeline.export`) are imported
directly by `bench.kg_stages`: if they change, the runner fails at once. The modules of the
SHACL and store issues may not exist yet in the tree being measured: each is optional (a
missing module is reported as "not available"), but a module that exists without an entry
point this file recognises is an error, never a silent skip. Adapt this file when their APIs
settle; it is the only place that guesses.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any


class AdapterError(RuntimeError):
    """A kg module exists but exposes no entry point the benchmark knows how to call."""


def optional_module(name: str) -> ModuleType | None:
    """Import `name`, or None when that module itself does not exist (other errors raise)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def _public_callables(module: ModuleType) -> str:
    names = []
    for name, obj in vars(module).items():
        if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == module.__name__:
            names.append(f"{name}{inspect.signature(obj)}")
    return "; ".join(names) or "(none)"


def _first_param_annotation(fn: Callable[..., Any]) -> tuple[str, str]:
    params = list(inspect.signature(fn).parameters.values())
    if not params:
        return "", ""
    ann = params[0].annotation
    return params[0].name, ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))


ValidateFn = Callable[[list[Path], "Path | None"], Any]


def validator() -> ValidateFn | None:
    """`kg validate SOURCES` as a function (sources, shapes folder or None) -> report, or None
    without kg.validation.validate.

    Recognised (issue 3's module): `validate_inputs(paths, shapes_graph, *, engine=...)` with
    `load_shapes(location)`; kg's fast engine (`kg.shacl.fast.fast_engine`) when it exists, as
    `kg validate` uses by default.
    """
    module = optional_module("kg.validation.validate")
    if module is None:
        return None
    validate_inputs = getattr(module, "validate_inputs", None)
    load_shapes = getattr(module, "load_shapes", None)
    if callable(validate_inputs) and callable(load_shapes):
        fast = getattr(optional_module("kg.shacl.fast"), "fast_engine", None)
        takes_engine = "engine" in inspect.signature(validate_inputs).parameters

        def run(paths: list[Path], shapes: Path | None) -> Any:
            graph = load_shapes(shapes)
            if fast is not None and takes_engine:
                return validate_inputs(paths, graph, engine=fast)
            return validate_inputs(paths, graph)

        return run
    raise AdapterError(
        "kg.validation.validate exists but has no validate_inputs/load_shapes; adapt bench/kg_api.py:validator(). "
        f"Public functions: {_public_callables(module)}"
    )


def export_validate_modes() -> list[str]:
    """How `kg export` can validate in this tree, the user-facing way first:
    'cli' (`kg export --validate`), 'shapes' (`export(shapes=[...])`, validation inside the
    pipeline), 'validate' (`export(validate=True)`)."""
    from kg import cli
    from kg.pipeline.export import export

    modes = []
    command = cli.main.commands.get("export")
    if command is not None and any("--validate" in getattr(p, "opts", []) for p in command.params):
        modes.append("cli")
    params = inspect.signature(export).parameters
    if "shapes" in params:
        modes.append("shapes")
    if "validate" in params:
        modes.append("validate")
    return modes


@dataclass(frozen=True)
class StoreOps:
    """How this kg loads curation sources into its embedded store, in two timed steps."""

    collect: Callable[[list[Path]], Any]  # sources -> data to load (exports in memory)
    open: Callable[[Path], Any]  # folder -> store
    load: Callable[[Any, Any], Any]  # (store, data) -> load result
    describe: str


def store_ops(jobs: int = 2) -> StoreOps | None:
    """kg's embedded-store loading, or None when kg.store.load does not exist.

    Recognised (issue 4's store module): `collect(paths, iris=None, jobs=None)`,
    `open_store(location)` and `load_store(store, data)`.
    """
    module = optional_module("kg.store.load")
    if module is None:
        return None
    collect = getattr(module, "collect", None)
    open_store = getattr(module, "open_store", None)
    load_store = getattr(module, "load_store", None)
    if callable(collect) and callable(open_store) and callable(load_store):
        takes_jobs = "jobs" in inspect.signature(collect).parameters
        return StoreOps(
            collect=(lambda paths: collect(paths, jobs=jobs)) if takes_jobs else collect,
            open=open_store,
            load=load_store,
            describe=f"kg.store.load.collect(jobs={jobs if takes_jobs else 'n/a'}) + open_store + load_store",
        )
    raise AdapterError(
        "kg.store.load exists but has no collect/open_store/load_store; adapt bench/kg_api.py:store_ops(). "
        f"Public functions: {_public_callables(module)}"
    )


QueryRunner = Callable[..., Any]


def query_runner() -> QueryRunner | None:
    """`kg.sparql.query.run(name, target, **params)` (issue 4's Python API), or None without kg.sparql.query."""
    module = optional_module("kg.sparql.query")
    if module is None:
        return None
    fn = getattr(module, "run", None)
    if not callable(fn):
        raise AdapterError(
            "kg.sparql.query exists but has no run(name, target, **params); adapt bench/kg_api.py:"
            f"query_runner(). Public functions: {_public_callables(module)}"
        )
    return fn  # type: ignore[no-any-return]
