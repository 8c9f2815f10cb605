"""A whole session through the public API only (`import kg`): export -> validate -> load ->
query -> sync, as a notebook user would write it, on the bundled examples."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import kg
from tests.conftest import EXAMPLES


def test_a_session_through_the_public_api(tmp_path: Path) -> None:
    out, store = tmp_path / "out", tmp_path / "store"
    report = kg.export([EXAMPLES], out)
    assert report.count("exported") == 16 and (out / "curations.nq").is_file()

    result = kg.validate([out / "curations.nq"])
    assert result.conforms() and result.count("Warning") > 0  # the examples carry warnings

    loaded = kg.load([out / "curations.nq"], store=store)
    assert loaded.graphs == len(
        json.loads((out / ".kg-manifest.json").read_text())["graphs"]
    )  # curations + nodes

    rows = kg.query("topic-counts", store)
    assert rows[0] == {"scheme": "KLAS", "topic": "Telehealth", "curations": 7}
    assert kg.query("curations-by-topic", store, topic="telehealth")[0]["curation"].startswith("https://")
    dates = kg.query("SELECT ?d WHERE { ?c schema:datePublished ?d } LIMIT 1", store)
    assert isinstance(dates[0]["d"], (dt.date, dt.datetime))  # typed values, ready for a DataFrame

    in_memory = kg.build([EXAMPLES])
    assert kg.query("topic-counts", in_memory) == rows

    synced = kg.sync(out, store=tmp_path / "synced")
    assert kg.query("topic-counts", tmp_path / "synced") == rows
    assert synced is not None
    assert kg.stats(out).to_json() == kg.stats(tmp_path / "synced").to_json()
    assert kg.stats(out).curations == 16


def test_parameters_are_bound_not_pasted(tmp_path: Path) -> None:
    store = kg.build([EXAMPLES])
    assert kg.query("curations-by-topic", store, topic='"} DROP ALL {') == []


def test_errors_are_kg_errors(tmp_path: Path) -> None:
    with pytest.raises(kg.KgError):
        kg.query("no-such-query.rq", kg.build([EXAMPLES]))
    with pytest.raises(kg.KgError) as caught:
        kg.validate([tmp_path / "missing.nq"])
    assert caught.value.exit_code == 2


def test_the_api_is_small_and_documented() -> None:
    public = ["KgError", "__version__", "build", "export", "load", "query", "stats", "sync", "validate"]
    assert sorted(kg.__all__) == public
    for name in kg.__all__:
        if name != "__version__":
            assert getattr(kg, name).__doc__, name


def test_export_chooses_files_and_links_the_taxonomy_as_the_cli_does(tmp_path: Path) -> None:
    """kg.export's include/exclude and taxonomy give the same outputs as `kg export --exclude
    --taxonomy` (the CLI reaches the same pipeline through its own options)."""
    from click.testing import CliRunner

    from kg.cli import main
    from tests.helpers.queries import TAXONOMY

    exclude = ("*covid*", "*pandemic*")
    report = kg.export([EXAMPLES], tmp_path / "api", exclude=exclude, taxonomy=TAXONOMY)
    left_out = [row for row in report.files if "excluded" in str(row.get("reason"))]
    assert left_out and report.count("exported") == 16 - len(left_out)
    args = ["export", str(EXAMPLES), "-o", str(tmp_path / "cli"), "--taxonomy", str(TAXONOMY)]
    for pattern in exclude:
        args += ["--exclude", pattern]
    assert CliRunner().invoke(main, args).exit_code == 0
    for name in ("curations.nq", "curations.ttl", "report.json", "void.ttl"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert b"/graph/taxonomy>" in (tmp_path / "api" / "curations.nq").read_bytes()
