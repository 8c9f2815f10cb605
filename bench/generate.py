"""Deterministic generator of realistic synthetic Medigy curations.

    python -m bench.generate N OUTDIR [--seed 1] [--taxonomy PATH]

Writes N files `<community>__<section>__<mdName>.md` shaped like `../shared/corpus/curations`
(same keys, nesting and quoting: the front matter is dumped by PyYAML with sorted keys, exactly
as the real files were), spread over subfolders of 1,000 files (`part-0000/`, ...). Topics are
the real labels of `../shared/corpus/taxonomy/category-whole-data.json` (`parentclasslabel:
label`, about 2,250 distinct topics in 13 sources). The same seed gives byte-identical files.

What a curation holds (rates per file, roughly those of the real corpus and the site):
- 5 communities (CCM 50%, Pandemic 20%, FemTech, Risk & Compliance, Security 10% each) and the
  11 work-package types of the corpus README;
- 1-6 topics (`communityTopics`, with `#` spelled `-hash-`, and the same list as the JSON
  string `openProjectCustomFields.medigyTopics`), drawn with a skewed popularity;
- one or two of ~2,000 authors, one of ~300 brands (7% with an empty link, as on the site);
- dates like `'2020-09-08T13:29:57.872538Z'`, `lastMod` after `date`, `publishDate` (10%),
  `eventStartDate`/`eventEndDate` as unquoted YAML dates or datetimes for events;
- `featuredImage` (95%), `favIconImage` (10%), `featuredPdf` (2%), `htmlMetaData` with
  `openGraphMetaData`/`twitterMetaData` (12%);
- an HTML body of 1-3 KB.
Every generated file is a valid curation (kg exports it with no field problem), and `id`,
`mdName`, `slug` and `title` are unique within a corpus.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import json
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

import yaml

#: Bump when the output for a given (N, seed) changes: cached corpora are regenerated.
GENERATOR_VERSION = 2
FILES_PER_FOLDER = 1000
MANIFEST = ".kg-bench-corpus.json"

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TAXONOMY = ROOT.parent / "shared" / "corpus" / "taxonomy" / "category-whole-data.json"


@dataclass(frozen=True)
class Community:
    identifier: str
    file_prefix: str  # first part of the file name
    path: str  # URL path segment under /communities/
    weight: int


COMMUNITIES = (
    Community("Chronic Care Management (CCM)", "chronic-care-management", "chronic-care-management", 50),
    Community("Pandemic Community", "covid-19-pandemic", "pandemic", 20),
    Community("FemTech", "femtech", "femtech", 10),
    Community("Risk & Compliance", "risk-compliance", "risk-compliance", 10),
    Community("Security", "security", "security", 10),
)


@dataclass(frozen=True)
class WorkPackageType:
    name: str
    section: str
    archetype: str
    search_category: str
    sub: str
    tag: str
    alias_root: str
    weight: int


WORK_PACKAGE_TYPES = (
    WorkPackageType(
        "Curated Content", "curated-content", "curate-content", "News", "brief", "news", "news", 60
    ),
    WorkPackageType("Curated News", "curated-news", "news", "News", "brief", "news", "news", 12),
    WorkPackageType("Curated Video", "curated-video", "media-video", "News", "brief", "videos", "videos", 5),
    WorkPackageType(
        "Curated Offering",
        "curated-offering",
        "profile-offering",
        "Offerings",
        "Offerings",
        "news",
        "Offerings",
        4,
    ),
    WorkPackageType("Curated Event", "curated-event", "event", "Events", "brief", "events", "events", 4),
    WorkPackageType(
        "Curated Recognition",
        "curated-recognition",
        "recognition",
        "Recognitions",
        "brief",
        "awards",
        "recognitions",
        2,
    ),
    WorkPackageType("Infographics", "infographics", "infographics", "News", "brief", "news", "news", 3),
    WorkPackageType(
        "Contributed Content",
        "contributed-content",
        "contribute-content",
        "News",
        "brief",
        "news",
        "news",
        4,
    ),
    WorkPackageType("Ideas", "ideas", "idea", "Ideas", "brief", "ideas", "ideas", 2),
    WorkPackageType(
        "Recent Updates & Reports",
        "recent-updates-reports",
        "report",
        "News",
        "brief",
        "news",
        "news",
        2,
    ),
    WorkPackageType(
        "Vaccine/Drugs in the Pipeline",
        "vaccine-drugs-in-the-pipeline",
        "curate-content",
        "News",
        "brief",
        "news",
        "news",
        2,
    ),
)

#: Relative popularity of the taxonomy's sources in curations (the real corpus is mostly
#: Medigy, Symplur, Gartner and KLAS topics; SOC has the most labels but is rarely used).
SOURCE_WEIGHTS = {
    "Medigy": 25,
    "Symplur": 20,
    "Gartner": 12,
    "KLAS": 12,
    "Medical Subject Headings (MeSH)": 8,
    "Healthcare IT News": 6,
    "HIMSS": 4,
    "Frost & Sullivan": 3,
    "McKinsey & Company": 3,
    "Standard Occupational Classification (SOC)": 2,
    "Centers for Medicare & Medicaid Services (CMS)": 2,
    "Healthcare IT Today": 2,
    "U.S. Food and Drug Administration (FDA)": 1,
}
TOPIC_COUNT_WEIGHTS = {1: 3, 2: 12, 3: 48, 4: 29, 5: 6, 6: 2}


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "Aarav Abigail Aditi Ahmed Aisha Alejandro Amara Ana Andrea Anurup Arjun Ava Beatriz Benjamin "
    "Carlos Chen Chloe Daniel David Deepa Diego Elena Emily Emma Fatima Gabriel Grace Hannah Hiro "
    "Isabel Ivan Jamal James Julia Karan Kenji Laura Leila Lucas Maria Marcus Maya Mei Michael Nadia "
    "Noah Olivia Omar Priya Radhika Rahul Saima Sara Sofia Sonalika Tariq Vinit Wei Yara Zoe"
)
LAST_NAMES = _words(
    "Abbott Andrabi Bell Brown Chandra Chen Costa Das Diaz Edwards Evans Fischer Garcia Ghosh Gupta "
    "Haddad Hall Hughes Ito Iyer Jensen Johnson Kapoor Khan Kim Kowalski Kumar Lee Lopez Martin "
    "Mehta Meyer Moreau Murphy Nakamura Narayanan Nguyen Novak Okafor Olsen Park Patel Perez Quinn "
    "Rao Reddy Rossi Sato Schmidt Shah Silva Singh Smith Sree Tanaka Torres Wagner Wang Weber Yilmaz"
)

BRAND_HEADS = _words(
    "health care med clinic pharma bio digital patient hospital nurse physician fierce modern becker "
    "tele cyber data fem pandemic chronic rural value payer provider mobi wellness"
)
BRAND_TAILS = _words(
    "news review today magazine insider leaders wire pulse times journal weekly analytics it tech "
    "watch report exec works"
)
BRAND_TLDS = ("com", "com", "com", "org", "net", "io", "health")

WORDS = _words(
    "access accountable acute adherence admission adoption advanced agency analytics app artificial "
    "assessment automation bedside behavioral benefits billing biometric blood board burnout cancer "
    "capacity cardiac care caregiver chronic claims clinical clinician cloud coding cognitive "
    "collaboration community compliance connected consumer continuity coordination coronavirus cost "
    "covid data decision dementia device diabetes diagnosis diagnostic digital discharge disease "
    "disparities doctor documentation drug early ehr emergency employer engagement enterprise equity "
    "evidence experience family federal fhir financial frontline funding genomic guidelines health "
    "healthcare heart home hospital hybrid identity imaging improvement incentives infection "
    "informatics infrastructure innovation insurance integration intelligence interoperability "
    "intervention lab leadership learning machine management maternal measures medicaid medical "
    "medicare medication mental mobile model monitoring network nurse nursing nutrition obesity "
    "oncology operations outcomes outpatient pandemic partnership patient payer payment pediatric "
    "performance pharmacy physician platform policy population portal practice precision prevention "
    "primary privacy program provider quality readmission records recovery reform regional registry "
    "regulatory reimbursement remote report research resilience revenue risk rural safety screening "
    "security sensor service sleep social software staffing strategy stroke supply surgery survey "
    "system team technology telehealth telemedicine testing therapy tools training transformation "
    "transparency treatment trial trust vaccine value vendor virtual visit wearable wellness women "
    "workflow workforce"
)
TITLE_OPENERS = (
    "How",
    "Why",
    "What",
    "Five Ways",
    "The Case for",
    "Inside",
    "Lessons from",
    "A Guide to",
    "Rethinking",
    "Scaling",
    "Measuring",
    "Building",
)
IMAGE_SIZES = ((1180, 600), (1920, 1080), (765, 510), (480, 360), (1200, 630), (800, 450), (640, 480))


class Generator:
    """Draws curations from one seeded random stream; `curation(i)` must be called in order."""

    def __init__(self, seed: int, taxonomy: Path) -> None:
        self.rng = Random(seed)
        self.topics_by_source = _load_topics(taxonomy)
        self.sources = [s for s in SOURCE_WEIGHTS if s in self.topics_by_source]
        missing = sorted(set(self.topics_by_source) - set(self.sources))
        if missing:
            raise ValueError(f"taxonomy sources without a weight: {missing}")
        rng = self.rng
        self.source_cum = list(itertools.accumulate(SOURCE_WEIGHTS[s] for s in self.sources))
        # Within a source, popularity falls with rank in a seeded shuffle of its labels.
        self.topic_cum: dict[str, list[float]] = {}
        for source in self.sources:
            rng.shuffle(self.topics_by_source[source])
            n = len(self.topics_by_source[source])
            self.topic_cum[source] = list(itertools.accumulate(1.0 / (rank + 5) for rank in range(n)))
        names = [f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES]
        self.authors = rng.sample(names, 2000)
        self.author_cum = list(itertools.accumulate(1.0 / (rank + 3) for rank in range(len(self.authors))))
        domains = [f"{h}{t}.{tld}" for h in BRAND_HEADS for t in BRAND_TAILS for tld in BRAND_TLDS]
        self.brands = [*rng.sample(sorted(set(domains)), 296), "youtube.com", "vimeo.com", "linkedin.com"]
        self.brand_cum = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(self.brands))))
        self.community_cum = list(itertools.accumulate(c.weight for c in COMMUNITIES))
        self.wp_cum = list(itertools.accumulate(w.weight for w in WORK_PACKAGE_TYPES))
        self.topic_count_cum = list(itertools.accumulate(TOPIC_COUNT_WEIGHTS.values()))
        self.used_titles: set[str] = set()
        self.attachment = 4000

    # -- drawing helpers -------------------------------------------------------------------
    def _pick(self, items: Any, cum: Sequence[float]) -> Any:
        return items[bisect.bisect_right(cum, self.rng.random() * cum[-1])]

    def _topic(self) -> tuple[str, str]:
        source = self._pick(self.sources, self.source_cum)
        label = self._pick(self.topics_by_source[source], self.topic_cum[source])
        return source, label

    def _words(self, n: int) -> list[str]:
        return [self.rng.choice(WORDS) for _ in range(n)]

    def _sentence(self) -> str:
        words = self._words(self.rng.randint(8, 20))
        return " ".join(words).capitalize() + "."

    def _title(self) -> str:
        rng = self.rng
        while True:
            words = " ".join(w.capitalize() for w in self._words(rng.randint(4, 8)))
            opener = rng.choice(TITLE_OPENERS)
            shape = rng.random()
            if shape < 0.15:
                title = f"{words}: {rng.choice(('A Guide', 'What to Know', 'Key Findings', '4 Strategies'))}"
            elif shape < 0.25:
                title = f"{opener} {words}?"
            else:
                title = f"{opener} {words}"
            if title not in self.used_titles:
                self.used_titles.add(title)
                return title

    def _body(self, url: str) -> tuple[str, str]:
        """An HTML body of 1-3 KB and its first ~200 characters as plain text."""
        rng = self.rng
        target = rng.randint(1000, 3000)
        parts: list[str] = []
        plain: list[str] = []
        size = 0
        while size < target:
            kind = rng.random()
            sentences = [self._sentence() for _ in range(rng.randint(2, 5))]
            plain.extend(sentences)
            if kind < 0.1:
                html = "<ul>" + "".join(f"<li>{s}</li>" for s in sentences) + "</ul>"
            else:
                text = " ".join(sentences)
                if kind < 0.3:
                    text = text.replace(" ", "&nbsp;", 2)
                if kind > 0.8:
                    text += f' <a href="{url}">Read more</a>'
                elif kind > 0.7:
                    text = f"<i>{text}</i>"
                html = f"<p>{text}</p>"
            if size + len(html) > 3000:  # stay inside 1-3 KB (a block is < 1 KB, so size >= 1 KB here)
                break
            parts.append(html)
            size += len(html)
        body = "".join(parts)
        summary = " ".join(plain)[:200].rsplit(" ", 1)[0]
        return body, summary

    def _media(self, md: str, wp: int, key: str, fmt: str, ext: str, size: tuple[int, int] | None) -> Any:
        self.attachment += 1
        names = {
            "featuredImage": "Curated_Featured_Image.jpg",
            "favIconImage": "Curated_Source_FavIcon.png",
            "featuredPdf": "Curated_Featured_PDF.pdf",
        }
        media: dict[str, Any] = {"format": fmt, "href": f"{md}-{key}.{ext}"}
        if size is not None:
            media["size"] = list(size)
        media.update(
            valid=True,
            workPackage=wp,
            wpAttachment={
                "fileName": names[key],
                "link": f"/api/v3/attachments/{self.attachment}/content",
            },
        )
        return media

    # -- one curation -----------------------------------------------------------------------
    def curation(self, i: int) -> tuple[str, str]:
        """Return (file name, file text) of the i-th curation."""
        rng = self.rng
        community: Community = self._pick(COMMUNITIES, self.community_cum)
        wpt: WorkPackageType = self._pick(WORK_PACKAGE_TYPES, self.wp_cum)
        md = str(uuid.UUID(int=rng.getrandbits(128), version=5))
        wp_id = 1000 + i
        title = self._title()
        title_slug = "-".join(w.strip("?:").lower() for w in title.split() if w.strip("?:"))

        empty_link = rng.random() < 0.07
        brand = "" if empty_link else self._pick(self.brands, self.brand_cum)
        if wpt.name == "Curated Video" and not empty_link and rng.random() < 0.7:
            brand = "youtube.com"
        brand_stem = brand.rsplit(".", 1)[0] if brand else ""
        if brand == "youtube.com":
            href = f"https://www.youtube.com/watch?v={md[:11]}"
        elif brand:
            www = "www." if rng.random() < 0.6 else ""
            href = f"https://{www}{brand}/{rng.choice(WORDS)}/{title_slug}"
        else:
            href = ""
        body, summary = self._body(href or f"https://example.org/{title_slug}")

        created = dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
            seconds=rng.randint(0, 900 * 86400), microseconds=rng.randint(1, 999999)
        )
        modified = created + dt.timedelta(
            seconds=rng.randint(1, 3 * 86400), microseconds=rng.randint(1, 999999)
        )

        n_topics = self._pick(list(TOPIC_COUNT_WEIGHTS), self.topic_count_cum)
        topics: list[tuple[str, str]] = []
        while len(topics) < n_topics:
            t = self._topic()
            if t not in topics:
                topics.append(t)
        authors = [self._pick(self.authors, self.author_cum)]
        if rng.random() < 0.08:
            other = self._pick(self.authors, self.author_cum)
            if other not in authors:
                authors.append(other)

        base = f"/communities/{community.path}/{wpt.section}"
        data: dict[str, Any] = {
            "aliases": f"/{wpt.alias_root}/{title_slug}",
            "archetype": wpt.archetype,
            "author": authors,
            "basePath": base + "/",
            "breadcrumbLinks": ["/", "/communities/", f"/communities/{community.path}/", base, "#"],
            "breadcrumbs": ["Home", "Communities", community.identifier, wpt.name, title],
            "categories": [],
            "communityTopics": [f"{s}: {label.replace('#', '-hash-')}" for s, label in topics],
            "contentCategories": f"medigy-{community.path}-{wpt.section}",
            "date": _z(created),
            "description": summary,
            "id": wp_id,
            "identifier": community.identifier,
            "lastMod": _z(modified),
            "link": {"brand": brand, "href": href, "original": href or None},
            "mastHead": f"{community.identifier} CoP",
            "mdName": md,
            "openProjectWorkPackageType": wpt.name,
            "owlType": "Medigy Communities",
            "searchCategory": wpt.search_category,
            "slug": f"{brand_stem}-{title_slug}",
            "source": "open-project-curations",
            "status": "",
            "sub": wpt.sub,
            "tags": [wpt.tag],
            "title": title,
            "type": f"communities/medigy-{community.path}",
        }
        custom: dict[str, Any] = {}
        if href:
            tracked = rng.random() < 0.1
            custom["cleanUrl"] = href
            custom["sourceUrl"] = href
            if tracked:  # the link as shared carries tracking; cleanUrl is the canonical one
                data["link"]["href"] = href + "?utm_source=medigy&utm_medium=curation"
        custom["medigyTopics"] = json.dumps(
            [f"{s}: {label}" for s, label in topics], ensure_ascii=False, separators=(",", ":")
        )
        if rng.random() < 0.035:
            custom["shortUrl"] = None
        if wpt.name == "Curated Video":
            custom.update(videoEndPosition=None, videoSource=None, videoStartPosition=None, videoUrl=None)
        data["openProjectCustomFields"] = custom
        if rng.random() < 0.01:
            del data["lastMod"]
        if rng.random() < 0.10:
            published = created.replace(minute=0, second=0, microsecond=0) - dt.timedelta(
                days=rng.randint(0, 6)
            )
            data["publishDate"] = _z(published)
        if wpt.name == "Curated Event":
            start = created + dt.timedelta(days=rng.randint(10, 60))
            days = rng.randint(0, 3)
            if rng.random() < 0.5:
                data["eventStartDate"] = start.date()
                data["eventEndDate"] = start.date() + dt.timedelta(days=days)
            else:
                naive = start.replace(tzinfo=None, minute=0, second=0, microsecond=0)
                data["eventStartDate"] = naive.replace(hour=9)
                data["eventEndDate"] = naive.replace(hour=17) + dt.timedelta(days=days)
        if rng.random() < 0.95:
            fmt, ext = ("JPEG", "jpeg") if rng.random() < 0.8 else ("PNG", "png")
            image = self._media(md, wp_id, "featuredImage", fmt, ext, rng.choice(IMAGE_SIZES))
            data["featuredImage"] = {"alt": title, **image}
        if rng.random() < 0.10:
            fmt, ext = ("ICO", "ico") if rng.random() < 0.5 else ("PNG", "png")
            icon = self._media(md, wp_id, "favIconImage", fmt, ext, rng.choice(((16, 16), (32, 32))))
            data["favIconImage"] = {"alt": title, **icon}
        if rng.random() < 0.02:
            data["featuredPdf"] = self._media(md, wp_id, "featuredPdf", "pdf", "pdf", None)
        if rng.random() < 0.12:
            og = {
                "ogdescription": summary,
                "ogimage": f"https://cdn.{brand or 'example.org'}/uploads/{md[:8]}.jpg",
                "oglocale": "en_US",
                "ogsite_name": brand_stem.capitalize() or "Example",
                "ogtitle": title,
                "ogtype": "article",
                "ogupdated_time": modified.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            data["htmlMetaData"] = [
                {"description": summary, **og, "viewport": "width=device-width,initial-scale=1"}
            ]
            data["openGraphMetaData"] = [og]
            data["twitterMetaData"] = [
                {"twittercard": "summary", "twitterdescription": summary, "twittertitle": title}
            ]
        front = yaml.dump(
            data, Dumper=yaml.CSafeDumper, sort_keys=True, allow_unicode=True, default_flow_style=False
        )
        name = f"{community.file_prefix}__{wpt.section}__{md}.md"
        return name, f"---\n{front}---\n\n{body}"


def _z(value: dt.datetime) -> str:
    """UTC timestamp as the site writes it: '2020-09-08T13:29:57.872538Z'."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _load_topics(taxonomy: Path) -> dict[str, list[str]]:
    """Distinct (source, label) pairs of the taxonomy, labels trimmed, grouped by source."""
    if not taxonomy.is_file():
        raise FileNotFoundError(f"taxonomy not found: {taxonomy} (pass --taxonomy)")
    records = json.loads(taxonomy.read_text(encoding="utf-8"))
    by_source: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for record in records:
        source = (record.get("parentclasslabel") or "").strip()
        label = (record.get("label") or "").strip()
        if not source or not label or (source, label) in seen:
            continue
        seen.add((source, label))
        by_source.setdefault(source, []).append(label)
    for labels in by_source.values():
        labels.sort()
    return dict(sorted(by_source.items()))


def generate(n: int, out_dir: Path, seed: int = 1, taxonomy: Path = DEFAULT_TAXONOMY) -> list[Path]:
    """Write n curations under out_dir (in subfolders of 1,000) and return their paths."""
    gen = Generator(seed, taxonomy)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for i in range(n):
        name, text = gen.curation(i)
        folder = out_dir / f"part-{i // FILES_PER_FOLDER:04d}"
        if i % FILES_PER_FOLDER == 0:
            folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    manifest = {"generator_version": GENERATOR_VERSION, "n": n, "seed": seed, "taxonomy": taxonomy.name}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, sort_keys=True) + "\n", encoding="utf-8")
    return paths


def is_cached(out_dir: Path, n: int, seed: int) -> bool:
    """True when out_dir holds a complete corpus of this generator version, size and seed."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = {"generator_version": GENERATOR_VERSION, "n": n, "seed": seed}
    return all(manifest.get(k) == v for k, v in expected.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, help="number of curations")
    parser.add_argument("out_dir", type=Path, help="output folder (created; existing files are overwritten)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--taxonomy", type=Path, default=DEFAULT_TAXONOMY)
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be >= 0")
    paths = generate(args.n, args.out_dir, args.seed, args.taxonomy)
    size = sum(p.stat().st_size for p in paths)
    print(f"generated {len(paths)} curations ({size / 1e6:.1f} MB) in {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
