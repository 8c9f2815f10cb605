"""--include / --exclude and the config file: which files are read, the rest reported skipped
with the pattern; a bad config is exit 2 naming the file and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.read.selection import ConfigError, Selection, load_config
from tests.helpers.trees import curation, write_tree

NAME = "0e2974b6-991c-583f-b7c2-72cdeb0fbfa6"


@pytest.mark.parametrize(
    ("include", "exclude", "path", "read"),
    [
        ((), ("news/**",), "news/a/b.md", False),
        ((), ("news/**",), "newsletter/b.md", True),
        ((), ("README.md",), "deep/folder/README.md", False),  # no '/': the file name anywhere
        ((), ("*/README.md",), "a/b/README.md", True),  # '*' stays within one folder
        (("communities/**",), (), "news/x.md", False),
        (("communities/**",), (), "communities/security/x.md", True),
        (("communities/**",), ("**/_index.md",), "communities/_index.md", False),  # exclude wins
        (("*.md",), (), "a/b/c.md", True),
    ],
)
def test_globs_match_the_relative_path(
    include: tuple[str, ...], exclude: tuple[str, ...], path: str, read: bool
) -> None:
    assert (Selection(include, exclude).why_excluded(path) is None) is read


def test_excluded_files_are_reported_with_the_pattern(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {f"keep/{NAME}.md": curation(NAME), "drop/other.md": curation("x")})
    result = CliRunner().invoke(
        main, ["export", str(tmp_path / "src"), "-o", str(tmp_path / "out"), "--exclude", "drop/**"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["path"]: r for r in json.loads((tmp_path / "out" / "report.json").read_text())["files"]}
    assert rows[f"keep/{NAME}.md"]["status"] == "exported"
    assert rows["drop/other.md"]["status"] == "skipped"
    assert (
        rows["drop/other.md"]["reason"] == "excluded: matches exclude pattern 'drop/**' (--include/--exclude)"
    )


def test_a_config_file_selects_and_an_incremental_export_follows_it(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {f"keep/{NAME}.md": curation(NAME), "drop/other.md": curation("x")})
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(main, ["export", str(tmp_path / "src"), "-o", str(out)]).exit_code == 0
    config = tmp_path / "kg.toml"
    config.write_text('exclude = ["drop/**"]\n', encoding="utf-8")
    result = runner.invoke(main, ["export", str(tmp_path / "src"), "-o", str(out), "--config", str(config)])
    assert result.exit_code == 0, result.output
    rows = {r["path"]: r for r in json.loads((out / "report.json").read_text())["files"]}
    assert rows["drop/other.md"]["status"] == "skipped"  # not reused as exported last time
    assert f"config {config}" in rows["drop/other.md"]["reason"]
    assert "curation/x" not in (out / "curations.nq").read_text()


def test_pyproject_tool_kg_and_kg_toml_in_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.kg]\ninclude = "news/**"\n', encoding="utf-8")
    assert load_config(None, tmp_path).include == ("news/**",)
    (tmp_path / "kg.toml").write_text('exclude = ["a/**"]\n', encoding="utf-8")
    assert load_config(None, tmp_path) == Selection((), ("a/**",), f"config {tmp_path / 'kg.toml'}")
    assert not load_config(None, tmp_path / "nothing-here")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('exclud = ["x"]\n', "exclud: unknown key"),
        ("exclude = 3\n", "exclude: expected a list of glob patterns"),
        ("exclude = [\n", "not valid TOML"),
    ],
)
def test_a_bad_config_names_the_file_and_key_and_exits_2(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "kg.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(config)
    result = CliRunner().invoke(
        main, ["export", str(tmp_path), "-o", str(tmp_path / "out"), "--config", str(config)]
    )
    assert result.exit_code == 2
    assert f"{config}: " in result.stderr and message in result.stderr
    assert not (tmp_path / "out" / "report.json").exists()


@pytest.mark.parametrize("command", [["validate"], ["load", "--store", "STORE"]])
def test_validate_and_load_read_the_same_selection(tmp_path: Path, command: list[str]) -> None:
    write_tree(tmp_path / "src", {f"keep/{NAME}.md": curation(NAME), "bad/broken.md": "---\ntitle: [\n---\n"})
    args = [a.replace("STORE", str(tmp_path / "store")) for a in command] + [str(tmp_path / "src")]
    runner = CliRunner()
    assert runner.invoke(main, args).exit_code == 1  # the broken file fails
    config = tmp_path / "kg.toml"
    config.write_text('exclude = "bad/**"\n', encoding="utf-8")
    for selected in ([*args, "--exclude", "bad/**"], [*args, "--config", str(config)]):
        result = runner.invoke(main, selected)
        assert result.exit_code == 0, result.output


def test_an_export_folder_is_not_filtered_on_load(tmp_path: Path) -> None:
    write_tree(tmp_path / "src", {f"{NAME}.md": curation(NAME)})
    runner = CliRunner()
    assert runner.invoke(main, ["export", str(tmp_path / "src"), "-o", str(tmp_path / "out")]).exit_code == 0
    store = str(tmp_path / "store")
    result = runner.invoke(main, ["load", str(tmp_path / "out"), "--store", store, "--exclude", "x/**"])
    assert result.exit_code == 2
    assert "an export folder is synced as exported" in result.stderr
