"""ms per front matter of each YAML loader kg has or measures against, on real or generated files.

    python -m bench.yaml_loaders [FOLDER ...] [--repeat 5]

Reads the front matter of every `*.md` under the folders (default: ../shared/corpus/curations
and ../shared/corpus/site-sample), then loads all of them with each loader in turn, `--repeat`
times, and prints the CPU time per document (mean and median; the mean of the real files is half
one 207 KB front matter of the site sample): PyYAML's CSafeLoader (the floor's),
`PlainCurationLoader` (the reference), `CurationLoader`, ryaml alone, and `load_yaml` (ryaml
where it is sure to agree, else CurationLoader). It also prints how many documents `load_yaml`
took from ryaml, and fails when any value differs from `PlainCurationLoader`'s (types included).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from kg.read import yaml_loader
from kg.read.frontmatter import decode, split_front_matter

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_FOLDERS = [CORPUS / "curations", CORPUS / "site-sample"]


def front_matters(folders: list[Path]) -> list[str]:
    """The YAML text of every front matter under `folders` (files without one are left out)."""
    texts = []
    for folder in folders:
        for path in sorted(folder.rglob("*.md")):
            try:
                split = split_front_matter(decode(path.read_bytes()))
            except (UnicodeDecodeError, ValueError):
                continue
            if split is not None:
                texts.append(split[0])
    return texts


def _reference(text: str) -> Any:
    return yaml.load(text, Loader=yaml_loader.PlainCurationLoader)


def _loaders() -> dict[str, Callable[[str], Any]]:
    loaders: dict[str, Callable[[str], Any]] = {
        "PyYAML CSafeLoader (the floor's; dates as datetimes)": lambda t: yaml.load(
            t, Loader=yaml.CSafeLoader
        ),
        "PlainCurationLoader (reference)": _reference,
        "CurationLoader": lambda t: yaml.load(t, Loader=yaml_loader.CurationLoader),
    }
    try:
        import ryaml

        loaders["ryaml.loads alone (YAML 1.2 values)"] = ryaml.loads
    except ImportError:
        pass
    loaders["load_yaml (ryaml where sure, else CurationLoader)"] = yaml_loader.load_yaml
    return loaders


def _time(load: Callable[[str], Any], texts: list[str]) -> list[float]:
    """CPU seconds of `load` on each text."""
    seconds = []
    for text in texts:
        started = time.process_time()
        with contextlib.suppress(Exception):
            load(text)
        seconds.append(time.process_time() - started)
    return seconds


def _same(text: str) -> bool:
    def value(load: Callable[[str], Any]) -> str:
        try:
            return repr(load(text))
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    return value(yaml_loader.load_yaml) == value(_reference)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.yaml_loaders", description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    texts = front_matters(args.folders or DEFAULT_FOLDERS)
    if not texts:
        raise SystemExit("no front matter found")
    differing = [t for t in texts if not _same(t)]
    if differing:
        raise SystemExit(f"{len(differing)} documents load differently, e.g.:\n{differing[0][:2000]}")
    fast = sum(yaml_loader.fast_value(t) is not yaml_loader.UNSURE for t in texts)
    print(f"{len(texts)} front matters, {sum(map(len, texts)) / len(texts):,.0f} characters each on average;")
    print(f"load_yaml took {fast} from ryaml, {len(texts) - fast} from CurationLoader; all values equal")
    loaders = _loaders()
    runs: dict[str, list[list[float]]] = {name: [] for name in loaders}
    for _ in range(args.repeat):  # interleaved: each round times every loader once
        for name, load in loaders.items():
            runs[name].append(_time(load, texts))
    print("mean ms/doc  median ms/doc  (CPU time; median of the runs)")
    for name, per_run in runs.items():
        mean = statistics.median(sum(run) for run in per_run) / len(texts)
        median = statistics.median(statistics.median(run) for run in per_run)
        print(f"{mean * 1000:11.3f}  {median * 1000:12.3f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
