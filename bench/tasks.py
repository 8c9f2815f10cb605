"""One measurement in a fresh process (the runner starts one child per pipeline and size).

    python -m bench.tasks TASK --corpus DIR --work DIR --result FILE [options]

Writes a JSON result to FILE: the stage rows (seconds, peak RSS of this process at the end
of each stage), the process's final peak RSS and its children's (worker processes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.measure import Stages, peak_rss_children_mb, peak_rss_self_mb

TASKS = (
    "floor",
    "baseline",
    "kg-stages",
    "kg-parallel",
    "kg-export",
    "kg-validate",
    "kg-queries",
    "kg-profile",
    "versions",
)


def versions() -> dict[str, Any]:
    import importlib.metadata as md
    import platform

    out: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
    }
    for dist in ("kg", "rdflib", "pyshacl", "pyoxigraph", "PyYAML", "python-frontmatter"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "not installed"
    import yaml

    out["libyaml"] = bool(getattr(yaml, "__with_libyaml__", False))
    import kg

    out["kg_path"] = str(Path(kg.__file__).resolve().parent)
    out["kg_version"] = getattr(kg, "__version__", "?")
    return out


def run_task(args: argparse.Namespace) -> dict[str, Any]:
    corpus: Path = args.corpus
    work: Path = args.work
    extra: dict[str, Any] = {}
    stages: Stages
    if args.task == "versions":
        return {"versions": versions()}
    if args.task == "floor":
        from bench import floor

        stages = floor.run(corpus, args.jobs)
    elif args.task == "baseline":
        from bench import baseline, kg_stages

        shapes = args.shapes
        if shapes is None:
            from kg.resources import resource_dir

            shapes = resource_dir("shapes")
        extra["shape_files"] = [str(p) for p in kg_stages.shape_files(shapes)]
        stages = baseline.run(
            corpus, work / "baseline-out", shapes, baseline.parse_skips(args.skip), args.sparql_aside
        )
        extra["shapes"] = str(shapes)
    elif args.task == "kg-stages":
        from bench import kg_stages

        stages = kg_stages.stages(corpus, work / "kg-stages-out", kg_stages.shape_files(args.shapes))
    elif args.task == "kg-parallel":
        from bench import kg_stages

        stages = kg_stages.parallel(corpus, args.jobs)
    elif args.task == "kg-export":
        from bench import kg_stages

        formats = args.formats.split(",")
        out = work / f"kg-export-j{args.jobs}-{args.validate or 'none'}-{'-'.join(formats)}"
        shapes = kg_stages.shape_files(args.shapes) if args.validate else []
        if args.validate == "shapes" and not shapes:
            raise SystemExit("kg-export --validate shapes: no shape files (pass --shapes DIR)")
        stages = kg_stages.end_to_end(corpus, out, args.jobs, args.validate, shapes, formats)
    elif args.task == "kg-validate":
        from bench import kg_stages

        stages = kg_stages.validate(corpus, args.shapes)
    elif args.task == "kg-queries":
        from bench import kg_stages

        stages = kg_stages.queries(corpus, work / "store", args.repeat)
    elif args.task == "kg-profile":
        from bench import kg_stages

        stages = Stages()
        with stages.stage("kg export under cProfile (jobs=1)"):
            shapes = kg_stages.shape_files(args.shapes) if args.validate else []
            extra["profile"] = kg_stages.profile(corpus, work / "kg-profile-out", args.validate, shapes)
    else:  # pragma: no cover - argparse restricts the choices
        raise ValueError(args.task)
    return {
        "stages": stages.rows,
        "peak_rss_mb": peak_rss_self_mb(),
        "children_peak_rss_mb": peak_rss_children_mb(),
        **extra,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tasks")
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--corpus", type=Path, default=Path("."))
    parser.add_argument("--work", type=Path, default=Path("/tmp/kg-bench/work"))
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument(
        "--validate", choices=("cli", "shapes", "validate"), default=None, help="how kg export validates"
    )
    parser.add_argument("--formats", default="turtle,jsonld,ntriples,nquads")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--shapes", type=Path, default=None)
    parser.add_argument("--skip", action="append", default=[], help="baseline: STAGE=REASON")
    parser.add_argument(
        "--sparql-aside",
        action="store_true",
        help="baseline: time the SPARQL constraints apart (not in the total)",
    )
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = run_task(args)
    result["task_seconds"] = time.perf_counter() - started
    args.result.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
