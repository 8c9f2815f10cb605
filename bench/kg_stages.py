"""kg measured stage by stage through its internal functions, and end to end through `export`.

The stage-by-stage run calls what `kg.pipeline.workers.process` (the per-file work, done in the worker
processes) and `kg.pipeline.export.export` (the parent) call, in the same order, one stage at a time
over a batch of files, batch after batch (`STAGE_BATCH`): discover -> read/parse
(`kg.read.sources.read_file`) -> map (`kg.map.curation.curation_rdf`) -> sort + N-Triples lines ->
render each format's blocks (`kg.write.streams.render_blocks`) -> N-Quads lines -> validate a
curation (`kg.shacl.fast.validate_curation`) -> merge shared nodes -> stream each output
(`kg.write.streams.OutputStreams`); at the end, validate shared nodes + SPARQL constraints
(`SharedValidation.finish`) and finish the outputs. An internal API change makes these
imports or calls fail: the runner stops, it never skips a stage silently.
"""

from __future__ import annotations

import cProfile
import inspect
import io
import pstats
import re
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench import kg_api
from bench.measure import Stages, peak_rss_children_mb
from kg.map.curation import IriScheme, curation_rdf
from kg.pipeline.export import FORMATS, build, export
from kg.pipeline.outcome import Job
from kg.pipeline.workers import compiled_shapes, process_all
from kg.rdf.terms import Triple, nt_line
from kg.rdf.vocab import PREFIXES, instance_prefixes, sparql_prefix_header
from kg.read.sources import discover, read_file
from kg.shacl.fast import SharedValidation, validate_curation
from kg.write.ntriples import quads
from kg.write.protocol import sort_triples
from kg.write.registry import Writers
from kg.write.streams import OutputStreams, render_blocks

#: Output formats rendered per curation as blocks, in kg's order.
BLOCK_FORMATS = ("turtle", "jsonld", "ntriples")
FORMAT_LABELS = {"turtle": "Turtle", "jsonld": "JSON-LD", "ntriples": "N-Triples", "nquads": "N-Quads"}


def shape_files(shapes_dir: Path | None) -> list[Path]:
    """The SHACL files kg validates with: `shapes_dir`, else kg's own `shapes/` folder."""
    if shapes_dir is None:
        from kg.resources import resource_dir

        try:
            shapes_dir = resource_dir("shapes")
        except FileNotFoundError:
            return []
    return sorted(shapes_dir.glob("*.ttl")) if shapes_dir.is_dir() else []


def job(formats: tuple[str, ...], shapes: list[Path]) -> Job:
    iris = IriScheme()
    prefixes = {**PREFIXES, **instance_prefixes(iris.base)}
    return Job(iris, formats, tuple(prefixes.items()), tuple(str(p) for p in shapes))


#: Files per batch of the stage-by-stage run: each stage runs over one batch, then the next
#: stage, and the batch's intermediate results are dropped before the next batch, as in kg's
#: workers. (Run over all 50k files at once, the intermediate results held 3.3 GB, and the
#: stages measured 11-52x slower at 50k than at 5k, most above the floor's own 14x, which
#: kg's streaming pipelines were not: 8-10x. Garbage collections walking that heap are the
#: likely cause; not measured separately.)
STAGE_BATCH = 1000


def stages(root: Path, out_dir: Path, shapes: list[Path]) -> Stages:
    """Every stage of `kg export` in one process (jobs=1), timed separately, batch by batch.

    Each stage's seconds are summed over the batches of `STAGE_BATCH` files; the outputs are
    open throughout and each batch's blocks are streamed into them, as `export` does.
    """
    st = Stages()
    iris = IriScheme()
    prefixes = {**PREFIXES, **instance_prefixes(iris.base)}
    renderer = Writers(prefixes)
    out_dir.mkdir(parents=True, exist_ok=True)
    with st.stage("discover") as row:
        files = discover([root])
        row["files"] = len(files)
    compiled = checker = None
    if shapes:
        with st.stage("validate: compile shapes") as row:
            compiled = compiled_shapes(tuple(str(p) for p in shapes))
            checker = SharedValidation(compiled)
            row["shape_files"] = len(shapes)
    else:
        st.note("validate", "not available: no shape files (kg's shapes/ is empty; pass --shapes DIR)")
    shared: set[Triple] = set()
    own_total = 0
    names = ("nquads", *BLOCK_FORMATS)
    handles = {name: open(out_dir / FORMATS[name], "wb") for name in names}  # noqa: SIM115
    streams = {name: OutputStreams(renderer, {name: handles[name]}) for name in BLOCK_FORMATS}
    try:
        for start in range(0, len(files), STAGE_BATCH):
            batch = files[start : start + STAGE_BATCH]
            with st.part("read + parse (front matter -> Curation)"):
                results = [read_file(f) for f in batch]
            failed = [r for r in results if r.status != "exported" or r.problems]
            if failed:
                raise RuntimeError(f"{len(failed)} generated files did not export cleanly, e.g. {failed[0]}")
            with st.part("map (Curation -> own + shared triples)"):
                rdfs = [curation_rdf(r.curation, iris) for r in results if r.curation is not None]
            del results
            with st.part("sort own triples + N-Triples lines"):
                owns: list[list[Triple]] = [sort_triples(dict.fromkeys(r.own)) for r in rdfs]
                own_nts = [[nt_line(t) for t in own] for own in owns]
            blocks: dict[str, list[str]] = {}
            for name in BLOCK_FORMATS:
                with st.part(f"render {FORMAT_LABELS[name]} blocks (per curation)"):
                    blocks[name] = [
                        render_blocks(renderer, own, (name,), nt)[name]
                        for own, nt in zip(owns, own_nts, strict=True)
                    ]
            with st.part("render N-Quads lines (per curation)"):
                nquads = []
                for rdf, nt in zip(rdfs, own_nts, strict=True):
                    nquads.append(quads(nt + [nt_line(t) for t in rdf.shared], rdf.graph))
            del own_nts
            if compiled is not None and checker is not None:
                with st.part("validate: each curation (worker half)"):
                    for rdf, own in zip(rdfs, owns, strict=True):
                        checker.add(validate_curation(compiled, own, rdf.shared, {t[0] for t in own}))
            with st.part("merge shared nodes (parent)"):
                for rdf in rdfs:
                    shared.update(rdf.shared)
            own_total += sum(len(o) for o in owns)
            del rdfs, owns
            with st.part("write N-Quads"):
                handles["nquads"].write("".join(nquads).encode("utf-8"))
            del nquads
            for name in BLOCK_FORMATS:
                with st.part(f"write {FORMAT_LABELS[name]} (stream blocks + shared nodes)"):
                    for text in blocks[name]:
                        streams[name].write_blocks({name: text})
            del blocks
        if checker is not None:
            with st.stage("validate: shared nodes + SPARQL constraints (parent half)") as row:
                row["results"] = len(checker.finish(shared))
        for name in BLOCK_FORMATS:
            with st.part(f"write {FORMAT_LABELS[name]} (stream blocks + shared nodes)"):
                streams[name].finish(shared)
    finally:
        for handle in handles.values():
            handle.close()
    total = own_total + len(shared)
    for row in st.rows:
        row.setdefault("triples", total)
    return st


def parallel(root: Path, jobs: int) -> Stages:
    """The per-file work (read, parse, map, render all formats) through `process_all`."""
    st = Stages()
    files = discover([root])
    with st.stage(f"read + parse + map + render (process_all, jobs={jobs})") as row:
        exported = 0
        for outcome in process_all(files, job(tuple(FORMATS), []), jobs):  # consumed as export does
            exported += outcome.graph is not None
        row["exported"] = exported
        row["workers_peak_rss_mb"] = peak_rss_children_mb()
    return st


MODE_LABELS = {
    "cli": "`kg export --validate` (CLI)",
    "shapes": "export(shapes=...) (in the pipeline)",
    "validate": "export(validate=True)",
}


def _export(
    root: Path, out_dir: Path, jobs: int, mode: str | None, shapes: list[Path], formats: list[str]
) -> Any:
    """Export, validating the way `mode` says (None: no validation); the report when there is one."""
    if mode is None:
        return export([root], out_dir, formats, jobs=jobs)
    if mode == "shapes":
        return export([root], out_dir, formats, jobs=jobs, shapes=shapes)
    if mode == "validate":
        return export([root], out_dir, formats, jobs=jobs, validate=True)  # type: ignore[call-arg]
    if mode == "cli":
        from kg.cli import main

        args = [
            "export",
            str(root),
            "-o",
            str(out_dir),
            "-f",
            ",".join(formats),
            "-j",
            str(jobs),
            "--validate",
        ]
        try:
            main(args, standalone_mode=False)
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError(
                    f"kg export --validate exited with {exc.code} (violations or failures)"
                ) from None
        return None
    raise ValueError(f"unknown validation mode {mode!r}")


def end_to_end(
    root: Path, out_dir: Path, jobs: int, mode: str | None, shapes: list[Path], formats: list[str]
) -> Stages:
    """`kg export` of the whole corpus (all formats unless told otherwise), validating per `mode`."""
    st = Stages()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    how = f" + validate via {MODE_LABELS[mode]}" if mode else ""
    with st.stage(f"kg export{how} ({','.join(formats)}; jobs={jobs})") as row:
        report = _export(root, out_dir, jobs, mode, shapes, formats)
        row["workers_peak_rss_mb"] = peak_rss_children_mb()
    if report is not None:
        row["triples"] = report.triples
        row["exported"] = report.count("exported")
        validation = getattr(report, "validation", None)
        if validation is not None:
            row["validation results"] = len(validation)
        if report.count("failed") or report.problems:
            raise RuntimeError(report.summary(out_dir))
    row["bytes"] = sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())
    return st


def validate(root: Path, shapes_dir: Path | None) -> Stages:
    """`kg validate SOURCES` (kg.validation.validate.validate_inputs, kg's default engine), when this tree has it."""
    st = Stages()
    fn = kg_api.validator()
    if fn is None:
        st.note("kg validate SOURCES", "not available: kg.validation.validate does not exist in this tree")
        return st
    with st.stage("kg validate SOURCES (kg.validation.validate.validate_inputs: export in memory + validate)") as row:
        report = fn([root], shapes_dir)
        row["results"] = len(getattr(report, "results", []))
        row["triples"] = getattr(report, "triples", None)
    return st


# -- store and library queries ----------------------------------------------------------------

_PARAM = re.compile(r"^#\s+(\w+)\s+(\w+)\s+(required|optional|default=\S+)")


_LIMIT = re.compile(r"^#\s*Limit:\s*\d+", re.MULTILINE)


def _execute() -> Any:
    """kg.sparql.query.execute with `default_limit` (kg query's rows), or None in an older tree."""
    module = kg_api.optional_module("kg.sparql.query")
    fn = getattr(module, "execute", None) if module is not None else None
    if fn is None or "default_limit" not in inspect.signature(fn).parameters:
        return None
    return fn


def query_params(text: str) -> list[tuple[str, str, str]]:
    """(name, type, required|optional|default=X) from a library query's header."""
    params: list[tuple[str, str, str]] = []
    in_params = False
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# Parameters"):
            in_params = True
            continue
        if in_params:
            m = _PARAM.match(line)
            if m is None:
                in_params = False
                continue
            params.append((m.group(1), m.group(2), m.group(3)))
    return params


def queries_dir() -> Path | None:
    import kg

    package = Path(kg.__file__).resolve().parent
    for folder in (package / "sparql" / "queries", package / "queries"):  # since the restructure; before
        if folder.is_dir() and any(folder.glob("*.rq")):
            return folder
    return None


def _values(store: Any, needed: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Parameter values for a query: a frequent topic, a common word, or the declared default."""
    values: dict[str, Any] = {}
    for name, type_, mode in needed:
        if mode.startswith("default="):
            value: Any = mode.split("=", 1)[1]
        elif mode == "required":
            value = {"text": "telehealth", "community": "Pandemic Community", "scheme": "KLAS"}.get(name)
            if name == "topic":
                value = _top_topic(store)
            if value is None:
                raise RuntimeError(f"no benchmark value for required query parameter {name!r}")
        else:
            continue
        values[name] = int(value) if type_ == "integer" else value
    return values


def _top_topic(store: Any) -> str:
    q = (
        sparql_prefix_header()
        + "SELECT ?label (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c kg:topic ?t . ?t skos:prefLabel ?label }"
        " GROUP BY ?label ORDER BY DESC(?n) ?label LIMIT 1"
    )
    return str(next(iter(store.query(q, use_default_graph_as_union=True)))["label"].value)


def queries(root: Path, store_dir: Path, repeat: int) -> Stages:
    """Load an embedded store, then each library query, median of `repeat` runs."""
    import pyoxigraph

    st = Stages()
    folder = queries_dir()
    ops = kg_api.store_ops(jobs=2)
    run = kg_api.query_runner()
    if folder is None:
        st.note("library queries", "not available: no kg/sparql/queries/*.rq in this tree")
        return st
    if store_dir.exists():
        shutil.rmtree(store_dir)
    if ops is not None:
        with st.stage("collect for the store (kg.store.load.collect: in-memory export, jobs=2)") as row:
            data = ops.collect([root])
        with st.stage("store load (kg.store.load.open_store + load_store)") as row:
            store: Any = ops.open(store_dir)
            result = ops.load(store, data)
            row["result"] = repr(result)[:200]
            row["quads"] = len(store)
        del data
        target: Any = store
    else:
        st.note("store load (kg.store.load)", "not available: kg.store.load does not exist in this tree")
        with st.stage("build in memory (kg.pipeline.export.build, jobs=2)") as row:
            built = build([root], jobs=2)
            row["triples"] = built.report.triples
        with st.stage("store load (reference: pyoxigraph.Store.bulk_load of kg's N-Quads)") as row:
            store = pyoxigraph.Store(str(store_dir))
            store.bulk_load(built.nquads(), format=pyoxigraph.RdfFormat.N_QUADS)
            row["quads"] = len(store)
        del built
        target = store
    names = sorted(folder.glob("*.rq"))
    header = sparql_prefix_header()
    for path in names:
        text = path.read_text(encoding="utf-8")
        values = _values(store, query_params(text))
        times: list[float] = []
        rows = 0
        limited = _LIMIT.search(text) is not None and _execute() is not None
        for _ in range(repeat):
            started = time.perf_counter()
            if limited:  # the rows `kg query NAME` shows: the header's default limit (the API returns all)
                from kg.sparql.library import resolve

                rows = len(_execute()(resolve(path.stem), target, values, default_limit=True).rows())
            elif run is not None:
                result = run(path.stem, target, **values)
                rows = len(list(result))
            else:
                subs: dict[pyoxigraph.Variable, Any] = {
                    pyoxigraph.Variable(k): pyoxigraph.Literal(
                        str(v), datatype=pyoxigraph.NamedNode(_XSD_INT)
                    )
                    if isinstance(v, int)
                    else pyoxigraph.Literal(v)
                    for k, v in values.items()
                }
                solutions: Any = store.query(header + text, substitutions=subs)
                rows = sum(1 for _ in solutions)
            times.append(time.perf_counter() - started)
        how = "kg.sparql.query.run" if run is not None else "reference: pyoxigraph Store.query of the .rq text"
        if limited:
            how = "kg.sparql.query.execute with the header's default limit, as kg query shows it"
        st.rows.append(
            {
                "stage": f"query {path.stem}",
                "seconds": statistics.median(times),
                "runs": repeat,
                "rows": rows,
                "params": values,
                "how": how,
            }
        )
    return st


_XSD_INT = "http://www.w3.org/2001/XMLSchema#integer"


def profile(root: Path, out_dir: Path, mode: str | None, shapes: list[Path], top: int = 25) -> dict[str, Any]:
    """cProfile of `kg export` (jobs=1, all formats, validating when given shapes): the top
    functions by own and cumulative time."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    prof = cProfile.Profile()
    started = time.perf_counter()
    prof.enable()
    _export(root, out_dir, 1, mode, shapes, list(FORMATS))
    prof.disable()
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {
        "seconds_under_profiler": seconds,
        "validated": mode is not None,
        "how": MODE_LABELS.get(mode or "", "no validation"),
    }
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        out[key] = _trim_pstats(buf.getvalue())
    return out


def _trim_pstats(text: str) -> str:
    """Keep the table of a pstats printout (drop its preamble)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("ncalls"):
            return "\n".join(lines[i:]).rstrip()
    return text.rstrip()
