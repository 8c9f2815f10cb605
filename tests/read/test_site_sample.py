"""The real site's sample tree (../shared/corpus/site-sample/, 27 pages of every kind): which
pages are curations (kg.read.kinds), legacy curations exported and typed honestly, every other
page skipped with its reason, and the per-community counts checked against the front matter.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest
import yaml
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import SHARED

SAMPLE = SHARED / "corpus" / "site-sample"
KG = "https://w3id.org/medigy/kg#"
ID = "https://w3id.org/medigy/kg/id/"
SCHEMA = "https://schema.org/"
A = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LEGACY = "communities-of-practice/"
#: The same curation (one mdName) in two news folders: merging them is another change; until
#: then --validate sees one graph from two files, so validating runs leave one of them out.
DUPLICATE = "news/dropmark-curations/**"


@pytest.fixture(scope="module")
def sample() -> Path:
    if not SAMPLE.is_dir():
        pytest.skip(f"site sample not present at {SAMPLE}")
    return SAMPLE


@pytest.fixture(scope="module")
def exported(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    out = tmp_path_factory.mktemp("sample")
    result = CliRunner().invoke(main, ["export", str(sample), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "report.json").read_text())["files"]


def _front_matter(path: Path) -> dict[str, object] | None:
    """The YAML front matter as plain PyYAML reads it (None: no YAML front matter)."""
    match = re.match(r"---[ \t]*\n(.*?)\n---[ \t]*(?:\n|$)", path.read_text(encoding="utf-8"), re.S)
    data = yaml.safe_load(match.group(1)) if match else None
    return data if isinstance(data, dict) else None


def test_every_page_is_accounted_for_and_none_fails(
    sample: Path, exported: tuple[Path, list[dict[str, str]]]
) -> None:
    _, rows = exported
    on_disk = sorted(p.relative_to(sample).as_posix() for p in sample.rglob("*.md"))
    assert [r["path"] for r in rows] == on_disk
    status = Counter(r["status"] for r in rows)
    assert status == {"exported": 13, "skipped": 14}
    exported_paths = {r["path"] for r in rows if r["status"] == "exported"}
    legacy = {p for p in on_disk if p.startswith(LEGACY) and not p.endswith("_index.md")}
    assert len(legacy) == 10
    assert exported_paths == legacy | {
        "events/openproject-events/content-auto/20add109-e495-56f8-88bc-4efb473c74c0.md",
        "news/dropmark-curations/content-auto/0afb636b-989b-57f4-a9b6-75990f63abdc.md",
        "news/openproject-curations/content-auto/0afb636b-989b-57f4-a9b6-75990f63abdc.md",
    }


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (
            "recognitions/recognitions/content-auto/recognitions/challenges/2019/recognition/second-place-pegwin.md",
            "id 'hhs_2' alone marks no curation",
        ),
        (
            "offerings/curated-offerings/content-auto/ableto.md",
            "source 'Attest' is not one ending in '-curations'",
        ),
        ("communities-of-practice/security/content/infographics/_index.md", "not a curation: none of mdName"),
        (
            "topic-communities/owl-communities/content-auto/centers-for-medicare-medicaid-services-cms-billing-payments.md",
            "not a curation",
        ),
        ("profiles/individual-profiles/influencer/shahid-shah/content/about.md", "TOML front matter"),
        ("feeds/healthcare-it-miniflux-rss/README.md", "no front matter"),
        (
            "evaluation-facets/content-auto/ethics-and-compliance/carin_alliance_code_of_conduct_lhc_form.md",
            "not a curation",
        ),
    ],
)
def test_pages_that_are_not_curations_are_skipped_with_the_reason(
    exported: tuple[Path, list[dict[str, str]]], path: str, reason: str
) -> None:
    [row] = [r for r in exported[1] if r["path"] == path]
    assert row["status"] == "skipped"
    assert reason in row["reason"]


def _quads(out: Path) -> list[pyoxigraph.Quad]:
    return list(pyoxigraph.parse((out / "curations.nq").read_bytes(), format=pyoxigraph.RdfFormat.N_QUADS))


def test_a_legacy_curation_is_named_by_its_slug_and_typed_by_what_it_carries(
    exported: tuple[Path, list[dict[str, str]]],
) -> None:
    quads = _quads(exported[0])
    s = f"{ID}legacy-curation/feedproxy.google.com-building-more-software-architects"
    facts = {(q.predicate.value, q.object.value) for q in quads if q.subject.value == s}
    graphs = {q.graph_name.value for q in quads if q.subject.value == s}
    assert graphs == {f"{ID}graph/legacy-curation/feedproxy.google.com-building-more-software-architects"}
    types = {o for p, o in facts if p == A}
    assert types == {
        KG + "Curation",
        KG + "LegacyCuration",
        ID + "work-package-type/Curated_News",  # the site section it is listed in
        SCHEMA + "NewsArticle",
    }  # and no owlType class: it has none
    assert (KG + "community", ID + "community/Risk_%26_Compliance") in facts
    assert (KG + "topic", ID + "topic/Cybersecurity") in facts  # its WordPress category
    assert (KG + "sourceBrand", ID + "brand/feedproxy.google.com") in facts
    assert (KG + "slug", "feedproxy.google.com-building-more-software-architects") in facts
    # featuredImage given as a plain string is an image, resolved under the asset base
    image = {(q.predicate.value, q.object.value) for q in quads if q.subject.value == s + "/featured-image"}
    assert (SCHEMA + "contentUrl", ID + "asset/building-more-software-architects.png") in image


def _community(data: dict[str, object]) -> str | None:
    """The community a page is published in, read the plain way: `identifier`, else the
    breadcrumb after 'Communities' with 'and' written '&' (the site's spelling today)."""
    if isinstance(data.get("identifier"), str):
        return str(data["identifier"])
    crumbs = [str(c) for c in data.get("breadcrumbs") or []]  # type: ignore[attr-defined]
    if "Communities" in crumbs:
        name = crumbs[crumbs.index("Communities") + 1]
        return " ".join("&" if w.lower() == "and" else w[:1].upper() + w[1:] for w in name.split())
    return None


def test_community_counts_match_the_front_matter(sample: Path, tmp_path: Path) -> None:
    expected: Counter[str] = Counter()
    for path in sorted(sample.rglob("*.md")):
        data = _front_matter(path)
        if data is None or path.match(DUPLICATE.replace("**", "*/*")):
            continue
        curation = any(k in data for k in ("mdName", "owlType", "openProjectWorkPackageType")) or str(
            data.get("source", "")
        ).endswith("-curations")
        community = _community(data) if curation else None
        if community:
            expected[community] += 1
    assert expected == {"Security": 7, "Risk & Compliance": 3, "Events": 1, "News": 1}
    runner = CliRunner()
    result = runner.invoke(
        main, ["export", str(sample), "-o", str(tmp_path), "--validate", "--exclude", DUPLICATE]
    )
    assert result.exit_code == 0, result.output  # validates: legacy curations conform
    result = runner.invoke(
        main, ["query", "community-summary", "--data", str(tmp_path / "curations.nq"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["results"]["bindings"]
    got = {r["community"]["value"]: int(r["curations"]["value"]) for r in rows}
    assert got == dict(expected)
