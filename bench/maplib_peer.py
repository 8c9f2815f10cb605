"""kg export and the maplib peer side by side, interleaved, on the same generated curations.

    python -m bench.maplib_peer --sizes 1000 10000 [--rounds 3] [--cache /tmp/kg-bench-peer]
                                [--only kg-nt-j1 maplib-nt-j1 ...] [--json FILE]

For each size N: generate (or reuse) N curations with `bench.generate`, then run every pipeline
of `PIPELINES` as its own process, round after round (the order rotates each round, so no
pipeline always runs first or after the same neighbour), with the page cache warmed before each
run and a fresh, empty output folder. Each run gives the process's wall time (interpreter start
and imports included, as a user waits for them), the sampled peak PSS of its process tree and
the high-water RSS of its largest process (`bench.measure.run_child`), and the triples written
to `curations.nt`. The table gives medians over the rounds and each pipeline's wall-time ratio
to maplib's N-Triples run (jobs=1) at the same size; raw runs go to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import generate
from bench.measure import run_child
from bench.run import warm_page_cache

BENCH_ROOT = Path(__file__).resolve().parent.parent
KG = str(Path(sys.executable).parent / "kg")
MAPLIB = [sys.executable, "-m", "bench.maplib_map"]


@dataclass(frozen=True)
class Pipeline:
    key: str
    label: str
    argv: tuple[str, ...]  # CORPUS and OUT are appended as `{corpus}` / `{out}` placeholders
    reference: bool = False  # the run every ratio is taken against


PIPELINES = (
    Pipeline(
        "kg-nt-j1",
        "kg export -f ntriples -j 1",
        (KG, "export", "{corpus}", "-o", "{out}", "-f", "ntriples", "-j", "1"),
    ),
    Pipeline(
        "kg-nt-j2",
        "kg export -f ntriples -j 2",
        (KG, "export", "{corpus}", "-o", "{out}", "-f", "ntriples", "-j", "2"),
    ),
    Pipeline(
        "kg-all-j1", "kg export (all 4 formats) -j 1", (KG, "export", "{corpus}", "-o", "{out}", "-j", "1")
    ),
    Pipeline(
        "kg-all-j2", "kg export (all 4 formats) -j 2", (KG, "export", "{corpus}", "-o", "{out}", "-j", "2")
    ),
    Pipeline(
        "maplib-nt-j1",
        "maplib, N-Triples, parse in 1 process",
        (*MAPLIB, "{corpus}", "{out}", "--jobs", "1"),
        True,
    ),
    Pipeline(
        "maplib-nt-j2",
        "maplib, N-Triples, parse in 2 processes",
        (*MAPLIB, "{corpus}", "{out}", "--jobs", "2"),
    ),
    Pipeline(
        "maplib-ntttl-j1",
        "maplib, N-Triples + Turtle, parse in 1 process",
        (*MAPLIB, "{corpus}", "{out}", "--jobs", "1", "--formats", "ntriples,turtle"),
    ),
)


@dataclass
class Sample:
    key: str
    n: int
    round: int
    seconds: float
    cpu_seconds: float
    tree_peak_pss_mb: float
    max_rss_mb: float
    triples: int
    load: float


def ensure_corpus(cache: Path, n: int, seed: int) -> Path:
    """The generated corpus of N curations under `cache` (made once, reused while it matches)."""
    corpus = cache / str(n)
    if not generate.is_cached(corpus, n, seed):
        if corpus.exists():
            shutil.rmtree(corpus)
        print(f"[{n:>6}] generating {n} curations in {corpus}", file=sys.stderr, flush=True)
        generate.generate(n, corpus, seed)
    return corpus


def _triples(nt: Path) -> int:
    with nt.open("rb") as f:
        return sum(1 for line in f if line.strip() and not line.startswith(b"#"))


def run_once(p: Pipeline, corpus: Path, out: Path, n: int, round_: int) -> Sample:
    """One timed run of one pipeline, in a fresh process, into an empty `out`."""
    shutil.rmtree(out, ignore_errors=True)
    warm_page_cache(corpus)
    argv = [a.replace("{corpus}", str(corpus)).replace("{out}", str(out)) for a in p.argv]
    load = os.getloadavg()[0]
    done = run_child(argv, dict(os.environ), BENCH_ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"maplib_peer: {p.key} failed at N={n} (exit {done.returncode})")
    load = max(load, os.getloadavg()[0])
    return Sample(
        p.key,
        n,
        round_,
        done.seconds,
        done.cpu_seconds,
        done.tree_peak_pss_mb,
        done.max_rss_mb,
        _triples(out / "curations.nt"),
        load,
    )


def measure(pipelines: list[Pipeline], corpus: Path, work: Path, n: int, rounds: int) -> list[Sample]:
    """`rounds` rounds of every pipeline, the order rotated by one each round."""
    samples: list[Sample] = []
    for r in range(rounds):
        shift = r % len(pipelines)
        for p in pipelines[shift:] + pipelines[:shift]:
            s = run_once(p, corpus, work / p.key, n, r)
            samples.append(s)
            print(
                f"[{n:>6}] round {r + 1}/{rounds} {p.key}: {s.seconds:.2f} s (CPU {s.cpu_seconds:.2f} s), "
                f"tree PSS {s.tree_peak_pss_mb:.0f} MB, max RSS {s.max_rss_mb:.0f} MB, "
                f"{s.triples} triples, load {s.load:.1f}",
                file=sys.stderr,
                flush=True,
            )
    return samples


def _median(runs: list[Sample], attr: str) -> float:
    return float(statistics.median(getattr(s, attr) for s in runs))


def table(pipelines: list[Pipeline], samples: list[Sample]) -> list[str]:
    """Markdown rows: medians per (size, pipeline), and the ratios of its median wall time and
    median CPU time to the reference's (maplib, N-Triples, jobs=1) at the same size: below 1 is
    faster than maplib, 0.5 is twice maplib's speed."""
    lines = [
        "| N | pipeline | wall s (median) | min-max s | wall / maplib's | CPU s (median) | CPU / maplib's "
        "| tree peak PSS MB | largest process RSS MB | triples (.nt) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ref = next(p.key for p in pipelines if p.reference) if any(p.reference for p in pipelines) else None
    for n in sorted({s.n for s in samples}):
        ref_runs = [s for s in samples if s.n == n and s.key == ref]
        for p in pipelines:
            runs = [s for s in samples if s.n == n and s.key == p.key]
            if not runs:
                continue
            wall, cpu = _median(runs, "seconds"), _median(runs, "cpu_seconds")
            wall_ratio = f"{wall / _median(ref_runs, 'seconds'):.2f}" if ref_runs else "-"
            cpu_ratio = f"{cpu / _median(ref_runs, 'cpu_seconds'):.2f}" if ref_runs else "-"
            spread = f"{min(s.seconds for s in runs):.2f}-{max(s.seconds for s in runs):.2f}"
            lines.append(
                f"| {n:,} | {p.label} | {wall:.2f} | {spread} | {wall_ratio} | {cpu:.2f} | {cpu_ratio} "
                f"| {_median(runs, 'tree_peak_pss_mb'):.0f} | {_median(runs, 'max_rss_mb'):.0f} "
                f"| {runs[0].triples:,} |"
            )
    return lines


def versions() -> dict[str, str]:
    """The versions of what is measured, and the machine."""
    found = {name: metadata.version(name) for name in ("kg", "maplib", "polars", "PyYAML")}
    found["python"] = platform.python_version()
    found["cpus"] = str(os.cpu_count())
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.maplib_peer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/kg-bench-peer"), help="corpora and outputs")
    parser.add_argument("--only", nargs="+", choices=[p.key for p in PIPELINES], default=None)
    parser.add_argument("--json", type=Path, default=None, help="write every run here")
    args = parser.parse_args(argv)
    pipelines = [p for p in PIPELINES if args.only is None or p.key in args.only]
    samples: list[Sample] = []
    for n in args.sizes:
        corpus = ensure_corpus(args.cache, n, args.seed)
        samples += measure(pipelines, corpus, args.cache / "out", n, args.rounds)
        if args.json is not None:  # after each size: a long run keeps what it measured
            result: dict[str, Any] = {"versions": versions(), "samples": [asdict(s) for s in samples]}
            args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print("\n".join(table(pipelines, samples)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
