"""Incremental export benchmark: a full export of N files vs a re-export after touching 1% of them.

Builds a content tree of N real-shaped curations in a scratch folder (copies of the shared
corpus, each copy with its own mdName, id and slug, so every file is a distinct curation), then
alternates, `--repeat` times: a full export (`kg export --full`) and, after editing the body of
1% of the files, an incremental export into the same folder. Each run is a real `kg export`
subprocess, timed for wall clock and CPU (user + system of the child). Last, the incremental
outputs are compared byte for byte with a fresh full export of the same sources.

Target (issue 6): the incremental wall time is at most 10% of the full one.

    python bench/incremental.py                      # 10k files, 1%, 3 rounds, in a temp folder
    python bench/incremental.py --files 2000 --repeat 1
    python bench/incremental.py --work /tmp/kg-inc --keep

Before each timed export the benchmark waits `--settle` seconds (default 5), for both kinds of
export alike, so that neither pays for the disk still writing or trimming what the previous one
left.
"""

from __future__ import annotations

import argparse
import compileall
import filecmp
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "curations"
OUTPUTS = ["curations.ttl", "curations.jsonld", "curations.nt", "curations.nq", "report.json", "void.ttl"]


def build_tree(corpus: Path, dest: Path, count: int) -> list[Path]:
    """`count` distinct curations under `dest/copyNNN/`, made from the files of `corpus`."""
    originals = sorted(corpus.glob("*.md"))
    if not originals:
        sys.exit(f"no *.md files in {corpus}")
    made: list[Path] = []
    copy = 0
    while len(made) < count:
        folder = dest / f"copy{copy:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for original in originals[: count - len(made)]:
            name, text = new_identity(original.name, original.read_text(encoding="utf-8"), copy)
            (folder / name).write_text(text, encoding="utf-8")
            made.append(folder / name)
        copy += 1
    return made


def new_identity(name: str, text: str, copy: int) -> tuple[str, str]:
    """The file name and text with mdName (also in the file name), id and slug made unique to `copy`."""
    match = re.search(r"^mdName: (\S+)", text, re.MULTILINE)
    if match:
        old = match.group(1)
        new = f"{copy:03x}{old[3:]}"
        text, name = text.replace(old, new), name.replace(old, new)
    text = re.sub(r"^id: (\d+)", lambda m: f"id: {int(m.group(1)) + copy * 100_000}", text, flags=re.M)
    text = re.sub(r"^slug: (.*)$", lambda m: f"slug: {m.group(1)}-{copy}", text, flags=re.M)
    return name, text


def touch(files: list[Path], percent: float, round_: int) -> int:
    """Edit the body of `percent`% of the files, spread over the tree; returns how many.

    The body, not a front-matter value: appending to a quoted YAML title would break the file.
    """
    step = max(1, round(100 / percent))
    edited = 0
    for path in files[round_ % step :: step]:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\n<p>Edit {round_}.</p>\n")
        edited += 1
    return edited


def kg_export(src: Path, out: Path, *extra: str) -> tuple[float, float, str]:
    """Run `kg export`; returns (wall seconds, child CPU seconds, last line of its summary)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "export", str(src), "-o", str(out), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"kg export failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--touch", type=float, default=1.0, help="percent of files edited before a re-export")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        help="seconds to wait before each timed export, so the disk is done with the previous one's "
        "writes and freed blocks (on a filesystem mounted with `discard`, each export's replaced "
        "outputs are trimmed after it exits)",
    )
    args = parser.parse_args()

    # kg as installed has its bytecode compiled (pip does it); without it (PYTHONDONTWRITEBYTECODE,
    # an edited checkout) every run would compile kg's modules again, ~50 ms of each export
    compileall.compile_dir(ROOT / "kg", quiet=1)
    work = args.work or Path(tempfile.mkdtemp(prefix="kg-incremental-"))
    src, out, fresh = work / "src", work / "out", work / "fresh"
    shutil.rmtree(src, ignore_errors=True)
    print(f"building {args.files} files in {src} ...", flush=True)
    files = build_tree(args.corpus, src, args.files)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
        f"{args.settle:g} s settle before each timed export"
    )
    print(
        f"{'round':>5}  {'full wall':>9}  {'full cpu':>8}  {'incr wall':>9}  {'incr cpu':>8}  wall %  edited"
    )
    fulls: list[tuple[float, float]] = []
    incrs: list[tuple[float, float]] = []
    summary = ""
    try:
        for round_ in range(1, args.repeat + 1):
            time.sleep(args.settle)
            full = kg_export(src, out, "--full")
            edited = touch(files, args.touch, round_)
            time.sleep(args.settle)
            incr = kg_export(src, out)
            fulls.append(full[:2])
            incrs.append(incr[:2])
            summary = incr[2]
            print(
                f"{round_:>5}  {full[0]:>8.2f}s  {full[1]:>7.2f}s  {incr[0]:>8.2f}s  {incr[1]:>7.2f}s"
                f"  {100 * incr[0] / full[0]:>5.1f}  {edited}",
                flush=True,
            )
        print(f"last incremental run: {summary}")
        full_wall = statistics.median(w for w, _ in fulls)
        incr_wall = statistics.median(w for w, _ in incrs)
        full_cpu = statistics.median(c for _, c in fulls)
        incr_cpu = statistics.median(c for _, c in incrs)
        print(
            f"median: full {full_wall:.2f} s wall ({full_cpu:.2f} s cpu), incremental {incr_wall:.2f} s wall "
            f"({incr_cpu:.2f} s cpu): {100 * incr_wall / full_wall:.1f}% of the wall time, "
            f"{100 * incr_cpu / full_cpu:.1f}% of the cpu time (target: at most 10%)"
        )
        kg_export(src, fresh, "--full")
        same = [name for name in OUTPUTS if filecmp.cmp(out / name, fresh / name, shallow=False)]
        verdict = "byte-identical" if len(same) == len(OUTPUTS) else f"DIFFERENT: {set(OUTPUTS) - set(same)}"
        print(f"incremental outputs vs a fresh full export: {verdict}")
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
