"""A whole Hugo content tree: curations among topic, profile and section pages, blog posts, a
README, TOML and JSON front matter, images. Curations are exported; every other Markdown file
is skipped with its reason; nothing crashes; images are not inputs at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
from click.testing import CliRunner

from kg.cli import main
from tests.helpers.trees import SITE

NOT_A_CURATION = "not a curation: none of mdName, owlType, openProjectWorkPackageType and no curation source"

EXPECTED = {
    "README.md": ("skipped", "no front matter (file does not start with '---')"),
    "_index.md": ("skipped", NOT_A_CURATION),
    "about.md": ("skipped", NOT_A_CURATION),
    "blog/2021-03-01-welcome.md": ("skipped", NOT_A_CURATION),
    "blog/2021-04-02-toml-post.md": (
        "skipped",
        "TOML front matter ('+++'): not a curation (curations use YAML)",
    ),
    "blog/_index.md": ("skipped", NOT_A_CURATION),
    "blog/json-post.md": ("skipped", "JSON front matter: not a curation (curations use YAML)"),
    "communities/_index.md": ("skipped", NOT_A_CURATION),
    "communities/chronic-care-management/_index.md": ("skipped", NOT_A_CURATION),
    "communities/chronic-care-management/curated-content/0e2974b6-991c-583f-b7c2-72cdeb0fbfa6.md": (
        "exported",
        None,
    ),
    "communities/chronic-care-management/curated-content/_index.md": ("skipped", NOT_A_CURATION),
    "communities/covid-19-pandemic/curated-news/732200df-b075-580d-8e39-56f848fdf54e.md": ("exported", None),
    "communities/femtech/curated-content/period-tracking-bundle/index.md": ("exported", None),
    "communities/security/ideas/zero-trust-for-clinics.md": ("exported", None),
    "empty-front-matter.md": ("skipped", "front matter is empty"),
    "profiles/_index.md": ("skipped", NOT_A_CURATION),
    "profiles/jane-doe.md": ("skipped", NOT_A_CURATION),
    "topics/_index.md": ("skipped", NOT_A_CURATION),
    "topics/klas-telehealth.md": (
        "skipped",
        NOT_A_CURATION + ": source 'KLAS' is not one ending in '-curations'",
    ),
}


def test_every_file_of_a_site_tree_has_its_exact_status(tmp_path: Path) -> None:
    on_disk = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*") if p.is_file())
    assert [p for p in on_disk if not p.endswith(".md")] == [
        "communities/femtech/curated-content/period-tracking-bundle/featured.png",
        "static/images/logo.png",
    ]
    result = CliRunner().invoke(main, ["export", str(SITE), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output  # skipped pages are not failures
    rows = json.loads((tmp_path / "report.json").read_text())["files"]
    assert {r["path"]: (r["status"], r["reason"]) for r in rows} == EXPECTED
    assert [r["path"] for r in rows] == sorted(EXPECTED)  # each file once, images not at all
    [with_problem] = [r for r in rows if r.get("problems")]
    assert with_problem["path"].endswith("zero-trust-for-clinics.md")
    assert [p["field"] for p in with_problem["problems"]] == ["date"]
    assert "19 files seen: 4 exported, 15 skipped, 0 failed; 1 field problems" in result.stderr
    source_paths = {
        t.object.value
        for t in pyoxigraph.parse(
            (tmp_path / "curations.nt").read_bytes(), format=pyoxigraph.RdfFormat.N_TRIPLES
        )
        if t.predicate.value == "https://w3id.org/medigy/kg#sourcePath"
    }
    assert source_paths == {path for path, (status, _) in EXPECTED.items() if status == "exported"}
