"""The floor: the least any exporter must do, read every file and parse its YAML front matter.

Listing the files, reading all their bytes and `yaml.load(front_matter, Loader=CSafeLoader)`
(libyaml), nothing else: no normalisation, no RDF. In one process, or split over worker
processes (each returns only a count, so no parsed data is sent back).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from bench.measure import Stages

if not hasattr(yaml, "CSafeLoader"):  # pragma: no cover - depends on the PyYAML build
    raise ImportError("the floor is defined with libyaml's CSafeLoader; PyYAML has no libyaml here")


def list_files(root: Path) -> list[Path]:
    """Every `*.md` under root, sorted (as kg discovers them)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found.extend(Path(dirpath) / name for name in sorted(filenames) if name.endswith(".md"))
    return found


def front_matter(data: bytes) -> bytes:
    """The YAML between the opening `---` line and the closing one."""
    if not data.startswith(b"---\n"):
        return b""
    end = data.find(b"\n---\n", 3)
    return data[4 : end + 1] if end >= 0 else data[4:]


def parse_files(paths: list[Path]) -> int:
    """Read and parse each file; return how many front matters were mappings."""
    mappings = 0
    for path in paths:
        data = yaml.load(front_matter(path.read_bytes()), Loader=yaml.CSafeLoader)
        mappings += isinstance(data, dict)
    return mappings


def run(root: Path, jobs: int = 1) -> Stages:
    """Time the floor on `root` with `jobs` processes: list, then read + parse."""
    stages = Stages()
    with stages.stage("list files") as row:
        paths = list_files(root)
        row["files"] = len(paths)
    with stages.stage(f"read + CSafeLoader ({jobs} process{'es' if jobs > 1 else ''})") as row:
        if jobs <= 1:
            row["mappings"] = parse_files(paths)
        else:
            size = max(16, len(paths) // (jobs * 8) or 1)
            chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                row["mappings"] = sum(pool.map(parse_files, chunks))
    return stages
