"""kg export against the floor, interleaved: the ratio the issue targets, on a shared machine.

    python -m bench.floor_ratio CORPUS [--rounds 3] [--kg-root DIR ...] [--jobs 1,2]

Each round runs, one after another, the floor and `kg export` (all formats, no validation) of
every kg checkout given (`--kg-root`, default the kg importable beside `bench/`), with each
`--jobs`, every run in a fresh process (`bench.tasks`, as `bench.run` does); the order of the
checkouts alternates from round to round. It prints each run and then the median seconds (and
CPU seconds of the process tree) and the median ratio kg/floor per (checkout, jobs).
Interleaving spreads the load of other work on the machine over every pipeline alike, which the
best-of-N of `bench.run` does not: use it to compare two checkouts (before/after a change) when
the machine is not idle.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.run import warm_page_cache

BENCH_ROOT = Path(__file__).resolve().parent.parent


def _seconds(task: str, corpus: Path, jobs: int, kg_root: Path | None, work: Path) -> tuple[float, float]:
    """(stage seconds summed, CPU seconds of the process and its workers, start-up included)
    of one `bench.tasks` run in a fresh process."""
    paths = [str(kg_root)] if kg_root else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(BENCH_ROOT)])}
    with tempfile.NamedTemporaryFile(suffix=".json", dir=work, delete=False) as tmp:
        result = Path(tmp.name)
    cmd = [sys.executable, "-m", "bench.tasks", task, "--corpus", str(corpus), "--work", str(work)]
    cmd += ["--result", str(result), "--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"{task} failed:\n{done.stdout}{done.stderr}")
    rows = json.loads(result.read_text(encoding="utf-8"))["stages"]
    result.unlink()
    return float(sum(row.get("seconds", 0.0) for row in rows)), cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor_ratio", description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kg-root", type=Path, action="append", default=[], help="a checkout (repeatable)")
    parser.add_argument("--jobs", default="1,2")
    args = parser.parse_args(argv)
    roots: list[Path | None] = [p.resolve() for p in args.kg_root] or [None]
    jobs = [int(j) for j in args.jobs.split(",")]
    times: dict[tuple[str, int], list[tuple[float, float]]] = {}
    ratios: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="kg-floor-ratio-") as tmp:
        work = Path(tmp)
        for round_ in range(args.rounds):
            order = roots if round_ % 2 == 0 else roots[::-1]
            for j in jobs:
                warm_page_cache(args.corpus)
                floor = _seconds("floor", args.corpus, j, None, work)
                times.setdefault(("floor", j), []).append(floor)
                line = [f"round {round_ + 1} jobs={j}: floor {floor[0]:.2f} s (CPU {floor[1]:.2f} s)"]
                for root in order:
                    name = str(root or "kg")
                    kg = _seconds("kg-export", args.corpus, j, root, work)
                    times.setdefault((name, j), []).append(kg)
                    ratios.setdefault((name, j), []).append(kg[0] / floor[0])
                    line.append(f"{name} {kg[0]:.2f} s ({kg[0] / floor[0]:.2f}x; CPU {kg[1]:.2f} s)")
                print("; ".join(line), f"load {os.getloadavg()[0]:.1f}", flush=True)
    print("\nmedians (seconds; CPU seconds of the process tree, start-up included):")
    for (name, j), values in times.items():
        ratio = f", kg/floor {statistics.median(ratios[name, j]):.2f}x" if (name, j) in ratios else ""
        seconds = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"  {name} jobs={j}: {seconds:.2f} s (CPU {cpu:.2f} s){ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
