"""The obvious pipeline that issue 5 compares kg with: what a developer writes in an afternoon.

    python -m bench.baseline CORPUS [-o OUT_DIR] [--shapes DIR]

1. parse: `frontmatter.load(path)` for every file (python-frontmatter; it uses libyaml's
   CSafeLoader when available);
2. build: one rdflib `Graph`, filled with `Graph.add` by a straightforward mapping of the same
   front-matter fields to the same triples kg emits (same IRIs, same properties; rdflib
   `URIRef`/`Literal` objects). It does not use kg's code;
3. validate: `pyshacl.validate` on the whole graph with the project's shapes (`shapes/*.ttl`
   of the kg tree being measured), `inference="none"`, SHACL Core only: the shapes' SPARQL
   constraints (`sh:sparql`) are removed first, because pySHACL runs each of them once per focus
   node (71 s for 500 curations in an earlier run), so a ratio against them measures pySHACL's
   handling of SPARQL, not the pipeline. `--sparql-aside` times them in a separate pySHACL run
   that is reported but not counted in the total (kg validates them as well, so the comparison
   leaves kg with more work than the baseline). Skipped with a note when the tree has no shapes;
4. serialize: rdflib's Turtle, JSON-LD and N-Triples serializers, one file each.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import frontmatter
from rdflib import OWL, RDF, RDFS, SH, XSD, Graph, Literal, Namespace, URIRef
from rdflib.term import BNode, Node

from bench.floor import list_files
from bench.measure import Stages

BASE = "https://w3id.org/medigy/kg/id/"
KG = Namespace("https://w3id.org/medigy/kg#")
SCHEMA = Namespace("https://schema.org/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
PROV = Namespace("http://www.w3.org/ns/prov#")

SCHEMA_TYPES = {
    "curated content": SCHEMA.Article,
    "contributed content": SCHEMA.Article,
    "curated news": SCHEMA.NewsArticle,
    "curated video": SCHEMA.VideoObject,
    "curated event": SCHEMA.Event,
    "infographics": SCHEMA.ImageObject,
    "recent updates & reports": SCHEMA.Report,
}
DOMAIN = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
FORMATS = {"turtle": "curations.ttl", "json-ld": "curations.jsonld", "nt": "curations.nt"}


def seg(text: str) -> str:
    """One IRI path segment, the way kg spells it (`_` encoded, space as `_`)."""
    return quote(text, safe="").replace("_", "%5F").replace("%20", "_")


def parse(paths: list[Path], root: Path) -> list[tuple[str, frontmatter.Post]]:
    return [(p.relative_to(root).as_posix(), frontmatter.load(str(p))) for p in paths]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _date(value: Any) -> Literal | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        is_date = len(value) == 10
        return Literal(value, datatype=XSD.date if is_date else XSD.dateTime)
    return Literal(value)  # YAML date/datetime: rdflib picks xsd:date / xsd:dateTime


def _list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        text = _text(item)
        if text and text not in out:
            out.append(text)
    return out


def add_curation(g: Graph, path: str, meta: dict[str, Any], body: str) -> None:
    """Add one curation's triples to `g` (the same fields and triples as kg's mapping)."""
    s = URIRef(f"{BASE}curation/{seg(str(meta['mdName']))}")
    graph = URIRef(f"{BASE}graph/curation/{seg(str(meta['mdName']))}")
    g.add((s, RDF.type, KG.Curation))
    for key, prefix, metaclass in (
        ("owlType", "owl-type", KG.OwlTypeClass),
        ("openProjectWorkPackageType", "work-package-type", KG.WorkPackageTypeClass),
    ):
        value = _text(meta.get(key))
        if value:
            cls = URIRef(f"{BASE}{prefix}/{seg(value)}")
            g.add((s, RDF.type, cls))
            g.add((cls, RDF.type, OWL.Class))
            g.add((cls, RDF.type, metaclass))
            g.add((cls, RDFS.label, Literal(value)))
            g.add((cls, RDFS.subClassOf, KG.Curation))
    wpt = _text(meta.get("openProjectWorkPackageType")) or ""
    g.add((s, RDF.type, SCHEMA_TYPES.get(wpt.lower(), SCHEMA.CreativeWork)))

    g.add((s, SCHEMA.name, Literal(str(meta["title"]).strip())))
    if _text(meta.get("description")):
        g.add((s, SCHEMA.description, Literal(_text(meta.get("description")))))
    g.add((s, KG.mdName, Literal(str(meta["mdName"]))))
    if meta.get("id") is not None:
        g.add((s, KG.workPackageId, Literal(int(meta["id"]))))
    created = _date(meta.get("date"))
    published = _date(meta.get("publishDate")) or created
    for prop, value in (
        (SCHEMA.dateCreated, created),
        (SCHEMA.datePublished, published),
        (SCHEMA.dateModified, _date(meta.get("lastMod"))),
        (SCHEMA.startDate, _date(meta.get("eventStartDate") or meta.get("eventDate"))),
        (SCHEMA.endDate, _date(meta.get("eventEndDate"))),
    ):
        if value is not None:
            g.add((s, prop, value))

    for name in _list(meta.get("author")):
        person = URIRef(f"{BASE}person/{seg(name)}")
        g.add((s, SCHEMA.author, person))
        g.add((person, RDF.type, SCHEMA.Person))
        g.add((person, SCHEMA.name, Literal(name)))

    custom = meta.get("openProjectCustomFields") or {}
    topics = list(meta.get("communityTopics") or [])
    if custom.get("medigyTopics"):
        topics += json.loads(custom["medigyTopics"])
    for topic in topics:
        source, _, label = topic.replace("-hash-", "#").strip().partition(": ")
        concept = URIRef(f"{BASE}topic/{seg(source)}/{seg(label)}")
        scheme = URIRef(f"{BASE}scheme/{seg(source)}")
        g.add((s, KG.topic, concept))
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, SKOS.prefLabel, Literal(label)))
        g.add((concept, SKOS.inScheme, scheme))
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        g.add((scheme, SKOS.prefLabel, Literal(source)))

    identifier = _text(meta.get("identifier"))
    if identifier:
        community = URIRef(f"{BASE}community/{seg(identifier)}")
        g.add((s, KG.community, community))
        g.add((community, RDF.type, KG.Community))
        g.add((community, RDFS.label, Literal(identifier)))
        if _text(meta.get("mastHead")):
            g.add((community, KG.mastHead, Literal(_text(meta.get("mastHead")))))
        crumbs = meta.get("breadcrumbs") or []
        if identifier in crumbs:
            g.add((community, KG.path, Literal(meta["breadcrumbLinks"][crumbs.index(identifier)])))

    link = meta.get("link") or {}
    brand = None
    if _text(link.get("brand")):
        name = _text(link.get("brand")) or ""
        brand = URIRef(f"{BASE}brand/{seg(name)}")
        g.add((s, KG.sourceBrand, brand))
        g.add((brand, RDF.type, SCHEMA.Organization))
        g.add((brand, SCHEMA.name, Literal(name)))
        if DOMAIN.match(name):
            g.add((brand, SCHEMA.url, URIRef(f"https://{name.lower()}/")))
    urls = [
        (KG.originalUrl, _text(link.get("original"))),
        (KG.cleanUrl, _text(custom.get("cleanUrl"))),
        (KG.sourceUrl, _text(custom.get("sourceUrl"))),
    ]
    url = _text(link.get("href")) or urls[1][1] or urls[2][1] or urls[0][1]
    if url:
        article = URIRef(f"{s}/source")
        g.add((s, KG.sourceArticle, article))
        g.add((article, RDF.type, KG.SourceArticle))
        g.add((article, SCHEMA.url, URIRef(url)))
        for prop, other in urls:
            if other and other != url:
                g.add((article, prop, URIRef(other)))
        if brand is not None:
            g.add((article, SCHEMA.publisher, brand))

    for key, prop, suffix, cls in (
        ("featuredImage", SCHEMA.image, "featured-image", SCHEMA.ImageObject),
        ("favIconImage", KG.favicon, "favicon", SCHEMA.ImageObject),
        ("featuredPdf", KG.featuredPdf, "featured-pdf", SCHEMA.MediaObject),
    ):
        media = meta.get(key)
        if not media or not media.get("href"):
            continue
        node = URIRef(f"{s}/{suffix}")
        g.add((s, prop, node))
        g.add((node, RDF.type, cls))
        href = str(media["href"])
        if "://" not in href:
            href = BASE + "asset/" + "/".join(seg(p) for p in href.lstrip("/").split("/"))
        g.add((node, SCHEMA.contentUrl, URIRef(href)))
        if media.get("size"):
            width, height = media["size"]
            g.add((node, SCHEMA.width, Literal(int(width))))
            g.add((node, SCHEMA.height, Literal(int(height))))
        if media.get("format"):
            g.add((node, SCHEMA.encodingFormat, Literal(media["format"])))
        if _text(media.get("alt")):
            g.add((node, SCHEMA.caption, Literal(_text(media.get("alt")))))

    for tag in _list(meta.get("tags")):
        g.add((s, SCHEMA.keywords, Literal(tag)))
    for alias in _list(meta.get("aliases")):
        g.add((s, KG.alias, Literal(alias)))
    for key, prop in (("slug", KG.slug), ("searchCategory", KG.searchCategory), ("basePath", KG.basePath)):
        if _text(meta.get(key)):
            g.add((s, prop, Literal(_text(meta.get(key)))))
    if body.strip():
        g.add((s, SCHEMA.articleBody, Literal(body.strip())))
        g.add((s, KG.bodyFormat, Literal("text/html" if body.lstrip().startswith("<") else "text/markdown")))

    g.add((graph, RDF.type, KG.CurationGraph))
    g.add((graph, PROV.wasDerivedFrom, URIRef(BASE + "source/" + "/".join(seg(p) for p in path.split("/")))))
    g.add((graph, KG.sourcePath, Literal(path)))


def build(posts: list[tuple[str, frontmatter.Post]]) -> Graph:
    g = Graph()
    for prefix, ns in (("kg", KG), ("schema", SCHEMA), ("skos", SKOS), ("prov", PROV)):
        g.bind(prefix, ns)
    for path, post in posts:
        add_curation(g, path, post.metadata, post.content)
    # kg describes each shared node in a named graph of its own, which says it is one
    nodes = {
        str(s) for s in g.subjects() if str(s).startswith(BASE) and str(s)[len(BASE) :].startswith(_NODES)
    }
    for node in nodes:
        g.add((URIRef(BASE + "graph/" + node[len(BASE) :]), RDF.type, KG.NodeGraph))
    return g


#: The paths of the nodes curations share (topics, schemes, classes, communities, brands, people).
_NODES = (
    "topic/",
    "scheme/",
    "scheme-none",
    "community/",
    "brand/",
    "person/",
    "owl-type/",
    "work-package-type/",
)


def shape_files(shapes_dir: Path | None) -> list[Path]:
    """The shapes files kg's own validation reads: the RDF files directly in `shapes_dir`."""
    if shapes_dir is None or not shapes_dir.is_dir():
        return []
    return sorted(p for p in shapes_dir.iterdir() if p.suffix in (".ttl", ".jsonld", ".nt", ".rdf"))


def _drop_node(g: Graph, node: Node) -> None:
    """Remove `node`'s description and that of the blank nodes it holds."""
    for _, _, o in list(g.triples((node, None, None))):
        if isinstance(o, BNode):
            _drop_node(g, o)
    g.remove((node, None, None))


def split_sparql(shapes: Graph) -> tuple[Graph, Graph, int]:
    """`shapes` as (Core shapes, the SPARQL constraints alone, how many constraints were split off).

    The SPARQL-only graph keeps every shape that has a `sh:sparql` with its targets and that
    constraint only, so pySHACL validates exactly what was removed from the Core graph.
    """
    core = Graph()
    for t in shapes:
        core.add(t)
    sparql = Graph()
    for prefix, ns in shapes.namespaces():
        core.bind(prefix, ns)
        sparql.bind(prefix, ns)
    pairs = sorted(shapes.subject_objects(SH.sparql))
    for shape, constraint in pairs:
        core.remove((shape, SH.sparql, constraint))
        if not any(True for _ in core.subjects(SH.sparql, constraint)):
            _drop_node(core, constraint)
        _copy_header(shapes, sparql, shape)
        for parent in shapes.subjects(SH.property, shape):  # a property shape reached from a node shape
            _copy_header(shapes, sparql, parent)
            sparql.add((parent, SH.property, shape))
        sparql.add((shape, SH.sparql, constraint))
        _copy_node(shapes, sparql, constraint)
    return core, sparql, len(pairs)


_HEADER = (
    RDF.type,
    SH.targetClass,
    SH.targetNode,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.target,
    SH.path,
    SH.message,
    SH.severity,
    SH.deactivated,
)


def _copy_header(src: Graph, dst: Graph, shape: Node) -> None:
    """A shape's type, targets, path, message and severity: what it needs without its constraints."""
    for p in _HEADER:
        for o in src.objects(shape, p):
            dst.add((shape, p, o))
            if isinstance(o, BNode):
                _copy_node(src, dst, o)


def _copy_node(src: Graph, dst: Graph, node: Node) -> None:
    for _, p, o in src.triples((node, None, None)):
        dst.add((node, p, o))
        if isinstance(o, BNode):
            _copy_node(src, dst, o)
    # sh:prefixes point at nodes holding sh:declare: copy those declarations too.
    for decl_owner in src.objects(node, SH.prefixes):
        for _, p, o in src.triples((decl_owner, None, None)):
            dst.add((decl_owner, p, o))
            if isinstance(o, BNode):
                _copy_node(src, dst, o)


def validate_stages(stages: Stages, g: Graph, shapes: list[Path], sparql_aside: bool) -> None:
    """pySHACL on the whole graph, Core shapes only; the SPARQL constraints aside on request."""
    import pyshacl

    with stages.stage("validate (pySHACL, whole graph, SHACL Core)") as row:
        shapes_graph = Graph()
        for f in shapes:
            shapes_graph.parse(f)
        core, sparql, removed = split_sparql(shapes_graph)
        conforms, _, _ = pyshacl.validate(g, shacl_graph=core, inference="none")
        row["conforms"] = bool(conforms)
        row["shape_files"] = len(shapes)
        row["sparql_constraints_removed"] = removed
    if sparql_aside and removed:
        # "aside: " rows are reported but not counted in the pipeline's total (bench/run.py).
        with stages.stage(f"aside: the {removed} SPARQL constraints (pySHACL)") as row:
            conforms, _, _ = pyshacl.validate(g, shacl_graph=sparql, inference="none")
            row["conforms"] = bool(conforms)


def run(
    root: Path,
    out_dir: Path,
    shapes_dir: Path | None,
    skip: dict[str, str] | None = None,
    sparql_aside: bool = False,
) -> Stages:
    """The whole obvious pipeline on the curations under `root`, stage by stage.

    `skip` maps a stage ("validate", "turtle", "json-ld", "nt") to the reason it is not run
    (the runner skips stages too slow to finish at large N; the total is then a lower bound).
    """
    skip = skip or {}
    stages = Stages()
    paths = list_files(root)
    with stages.stage("parse (python-frontmatter)") as row:
        posts = parse(paths, root)
        row["files"] = len(posts)
    with stages.stage("build (rdflib Graph.add)") as row:
        g = build(posts)
        row["triples"] = len(g)
    del posts
    shapes = shape_files(shapes_dir)
    if "validate" in skip:
        stages.note("validate (pySHACL, whole graph, SHACL Core)", f"skipped: {skip['validate']}")
    elif shapes:
        validate_stages(stages, g, shapes, sparql_aside)
    else:
        stages.note("validate (pySHACL, whole graph, SHACL Core)", f"skipped: no shape files in {shapes_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt, name in FORMATS.items():
        if fmt in skip:
            stages.note(f"serialize {fmt} (rdflib)", f"skipped: {skip[fmt]}")
            continue
        with stages.stage(f"serialize {fmt} (rdflib)") as row:
            g.serialize(destination=str(out_dir / name), format=fmt)
            row["bytes"] = (out_dir / name).stat().st_size
    return stages


def parse_skips(items: list[str]) -> dict[str, str]:
    """`["turtle=too slow", ...]` -> {"turtle": "too slow"}."""
    out: dict[str, str] = {}
    for item in items:
        stage, _, reason = item.partition("=")
        if stage not in ("validate", *FORMATS):
            raise SystemExit(f"--skip {item}: unknown stage {stage!r}")
        out[stage] = reason or "skipped on request"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=None, help="output folder (default: a temp dir)")
    parser.add_argument("--shapes", type=Path, default=None, help="SHACL shapes folder (default: kg's)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="STAGE=REASON",
        help="do not run a stage (validate, turtle, json-ld, nt); repeatable",
    )
    parser.add_argument(
        "--sparql-aside",
        action="store_true",
        help="also time the shapes' SPARQL constraints in pySHACL, reported apart from the total",
    )
    args = parser.parse_args(argv)
    shapes = args.shapes
    if shapes is None:
        from kg.resources import resource_dir

        shapes = resource_dir("shapes")
    out = args.out or Path(tempfile.mkdtemp(prefix="kg-baseline-"))
    stages = run(args.corpus, out, shapes, parse_skips(args.skip), args.sparql_aside)
    for row in stages.rows:
        if "skipped" in row:
            print(f"{row['stage']:<40} {row['skipped']}")
        else:
            print(f"{row['stage']:<40} {row['seconds']:8.2f} s  peak RSS {row['peak_rss_mb']:7.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
