"""Golden files, compared as graphs, and the committed outputs/ kept fresh.

Regenerate after an intended change:  KG_UPDATE_GOLDEN=1 pytest tests/test_golden.py
(then review the diff of tests/golden/ and outputs/ before committing).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from rdflib import Graph

from kg.pipeline.export import FORMATS, REPORT_NAME, export
from kg.publish import DESCRIPTION_NAME
from tests.conftest import EXAMPLES, GOLDEN, ROOT, assert_same_graph

UPDATE = os.environ.get("KG_UPDATE_GOLDEN") == "1"


def test_seeds_match_golden_graph(seeds_dir: Path, tmp_path: Path) -> None:
    export([seeds_dir], tmp_path, ["turtle"])
    produced = tmp_path / "curations.ttl"
    golden = GOLDEN / "seeds.ttl"
    if UPDATE:
        shutil.copy(produced, golden)
    assert_same_graph(Graph().parse(golden), Graph().parse(produced))


def test_committed_outputs_are_the_export_of_the_examples(tmp_path: Path) -> None:
    export([EXAMPLES], tmp_path)
    committed = ROOT / "outputs"
    if UPDATE:
        for name in [*FORMATS.values(), DESCRIPTION_NAME, REPORT_NAME]:
            shutil.copy(tmp_path / name, committed / name)
    for name in [*FORMATS.values(), DESCRIPTION_NAME, REPORT_NAME]:
        fresh, old = tmp_path / name, committed / name
        if not old.exists() or fresh.read_bytes() != old.read_bytes():
            if name == "curations.ttl" and old.exists():
                assert_same_graph(Graph().parse(old), Graph().parse(fresh))
            pytest.fail(f"outputs/{name} is stale: run `make example` (or KG_UPDATE_GOLDEN=1)")
