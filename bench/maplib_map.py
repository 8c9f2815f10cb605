"""The maplib peer: generated curations to N-Triples with Polars DataFrames and OTTR templates.

    python -m bench.maplib_map CORPUS OUT [--formats ntriples,turtle] [--jobs N] [--result FILE]

The strongest peer issue 17 names: maplib (Rust; Polars DataFrames mapped with stOTTR templates).
`bench.maplib_rows` reads each file and parses its front matter with PyYAML's CSafeLoader into
column lists (in `--jobs` processes); here they become Polars DataFrames (dates parsed to
datetimes by Polars), are mapped by the templates of `TEMPLATES` into one maplib `Model`, and are
written as `curations.nt` (and `curations.ttl` with `--formats ntriples,turtle`).

maplib 0.20 writes N-Triples, Turtle, RDF/XML and HDT of one graph at a time: it has no N-Quads
or TriG writer, so kg's `curations.nq` (one named graph per curation) has no counterpart here,
nor has JSON-LD. The mapping is of the union graph, the one kg writes to `curations.nt`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
from maplib import Model

from bench.floor import list_files
from bench.maplib_rows import LISTS, MEDIA, Tables, read_files
from bench.measure import Stages, peak_rss_self_mb

TEMPLATES = """
@prefix kg: <https://w3id.org/medigy/kg#> .
@prefix schema: <https://schema.org/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ottr: <http://ns.ottr.xyz/0.4/> .
@prefix t: <https://w3id.org/medigy/kg/templates#> .

t:Media [ ottr:IRI ?s, ottr:IRI ?p, ? ottr:IRI ?node, ottr:IRI ?cls, ? ottr:IRI ?href,
          ? xsd:integer ?width, ? xsd:integer ?height, ? xsd:string ?format, ? xsd:string ?caption ] :: {
  ottr:Triple(?s, ?p, ?node), ottr:Triple(?node, rdf:type, ?cls),
  ottr:Triple(?node, schema:contentUrl, ?href), ottr:Triple(?node, schema:width, ?width),
  ottr:Triple(?node, schema:height, ?height), ottr:Triple(?node, schema:encodingFormat, ?format),
  ottr:Triple(?node, schema:caption, ?caption)
} .

t:Curation [ ottr:IRI ?c, ottr:IRI ?g, xsd:string ?name, ? xsd:string ?description,
    ? xsd:string ?mdName, ? xsd:integer ?wpId, ? ottr:IRI ?owlType, ? ottr:IRI ?wpType, ottr:IRI ?schemaType,
    ? xsd:dateTime ?created, ? xsd:dateTime ?published, ? xsd:dateTime ?modified,
    ? xsd:dateTime ?start, ? xsd:dateTime ?end, ? xsd:date ?startDate, ? xsd:date ?endDate,
    ? ottr:IRI ?community, ? ottr:IRI ?brand, ? ottr:IRI ?article, ? ottr:IRI ?url,
    ? ottr:IRI ?originalUrl, ? ottr:IRI ?cleanUrl, ? ottr:IRI ?sourceUrl,
    ? xsd:string ?slug, ? xsd:string ?searchCategory, ? xsd:string ?basePath,
    ? xsd:string ?body, ? xsd:string ?bodyFormat, ottr:IRI ?sourceFile, xsd:string ?sourcePath,
    ? List<ottr:IRI> ?authors, ? List<ottr:IRI> ?topics, ? List<xsd:string> ?tags,
    ? List<xsd:string> ?aliases,
    ? ottr:IRI ?img_node, ? ottr:IRI ?img_href, ? xsd:integer ?img_width, ? xsd:integer ?img_height,
    ? xsd:string ?img_format, ? xsd:string ?img_caption,
    ? ottr:IRI ?fav_node, ? ottr:IRI ?fav_href, ? xsd:integer ?fav_width, ? xsd:integer ?fav_height,
    ? xsd:string ?fav_format, ? xsd:string ?fav_caption,
    ? ottr:IRI ?pdf_node, ? ottr:IRI ?pdf_href, ? xsd:integer ?pdf_width, ? xsd:integer ?pdf_height,
    ? xsd:string ?pdf_format, ? xsd:string ?pdf_caption ] :: {
  ottr:Triple(?c, rdf:type, kg:Curation), ottr:Triple(?c, rdf:type, ?owlType),
  ottr:Triple(?c, rdf:type, ?wpType), ottr:Triple(?c, rdf:type, ?schemaType),
  ottr:Triple(?c, schema:name, ?name), ottr:Triple(?c, schema:description, ?description),
  ottr:Triple(?c, kg:mdName, ?mdName), ottr:Triple(?c, kg:workPackageId, ?wpId),
  ottr:Triple(?c, schema:dateCreated, ?created), ottr:Triple(?c, schema:datePublished, ?published),
  ottr:Triple(?c, schema:dateModified, ?modified),
  ottr:Triple(?c, schema:startDate, ?start), ottr:Triple(?c, schema:endDate, ?end),
  ottr:Triple(?c, schema:startDate, ?startDate), ottr:Triple(?c, schema:endDate, ?endDate),
  ottr:Triple(?c, kg:community, ?community), ottr:Triple(?c, kg:sourceBrand, ?brand),
  ottr:Triple(?c, kg:sourceArticle, ?article), ottr:Triple(?article, rdf:type, kg:SourceArticle),
  ottr:Triple(?article, schema:url, ?url), ottr:Triple(?article, kg:originalUrl, ?originalUrl),
  ottr:Triple(?article, kg:cleanUrl, ?cleanUrl), ottr:Triple(?article, kg:sourceUrl, ?sourceUrl),
  ottr:Triple(?article, schema:publisher, ?brand),
  ottr:Triple(?c, kg:slug, ?slug), ottr:Triple(?c, kg:searchCategory, ?searchCategory),
  ottr:Triple(?c, kg:basePath, ?basePath),
  ottr:Triple(?c, schema:articleBody, ?body), ottr:Triple(?c, kg:bodyFormat, ?bodyFormat),
  ottr:Triple(?g, rdf:type, kg:CurationGraph), ottr:Triple(?g, prov:wasDerivedFrom, ?sourceFile),
  ottr:Triple(?g, kg:sourcePath, ?sourcePath),
  cross | ottr:Triple(?c, schema:author, ++?authors),
  cross | ottr:Triple(?c, kg:topic, ++?topics),
  cross | ottr:Triple(?c, schema:keywords, ++?tags),
  cross | ottr:Triple(?c, kg:alias, ++?aliases),
  t:Media(?c, schema:image, ?img_node, schema:ImageObject, ?img_href, ?img_width, ?img_height,
          ?img_format, ?img_caption),
  t:Media(?c, kg:favicon, ?fav_node, schema:ImageObject, ?fav_href, ?fav_width, ?fav_height,
          ?fav_format, ?fav_caption),
  t:Media(?c, kg:featuredPdf, ?pdf_node, schema:MediaObject, ?pdf_href, ?pdf_width, ?pdf_height,
          ?pdf_format, ?pdf_caption)
} .

t:Class [ ottr:IRI ?cls, xsd:string ?label, ottr:IRI ?meta ] :: {
  ottr:Triple(?cls, rdf:type, owl:Class), ottr:Triple(?cls, rdf:type, ?meta),
  ottr:Triple(?cls, rdfs:label, ?label), ottr:Triple(?cls, rdfs:subClassOf, kg:Curation)
} .
t:Topic [ ottr:IRI ?concept, xsd:string ?label, ottr:IRI ?scheme ] :: {
  ottr:Triple(?concept, rdf:type, skos:Concept), ottr:Triple(?concept, skos:prefLabel, ?label),
  ottr:Triple(?concept, skos:inScheme, ?scheme)
} .
t:Scheme [ ottr:IRI ?scheme, xsd:string ?label ] :: {
  ottr:Triple(?scheme, rdf:type, skos:ConceptScheme), ottr:Triple(?scheme, skos:prefLabel, ?label)
} .
t:Person [ ottr:IRI ?person, xsd:string ?name ] :: {
  ottr:Triple(?person, rdf:type, schema:Person), ottr:Triple(?person, schema:name, ?name)
} .
t:Community [ ottr:IRI ?community, xsd:string ?label, ? xsd:string ?mastHead, ? xsd:string ?path ] :: {
  ottr:Triple(?community, rdf:type, kg:Community), ottr:Triple(?community, rdfs:label, ?label),
  ottr:Triple(?community, kg:mastHead, ?mastHead), ottr:Triple(?community, kg:path, ?path)
} .
t:Brand [ ottr:IRI ?brand, xsd:string ?name, ? ottr:IRI ?url ] :: {
  ottr:Triple(?brand, rdf:type, schema:Organization), ottr:Triple(?brand, schema:name, ?name),
  ottr:Triple(?brand, schema:url, ?url)
} .
"""

KG = "https://w3id.org/medigy/kg#"
TURTLE_PREFIXES = {"kg": KG, "schema": "https://schema.org/", "skos": "http://www.w3.org/2004/02/skos/core#"}
_DATETIMES = ("created", "published", "modified", "start", "end")
_INTEGERS = ("wpId", *(f"{p}_{n}" for p, _, _ in MEDIA for n in ("width", "height")))


def curation_frame(columns: dict[str, list[Any]]) -> pl.DataFrame:
    """The curation table: strings, lists of strings, integers, and dates parsed by Polars."""
    schema: dict[str, Any] = {k: pl.String for k in columns}
    schema.update({k: pl.List(pl.String) for k in LISTS})
    schema.update({k: pl.Int64 for k in _INTEGERS})
    df = pl.DataFrame(columns, schema=schema)
    return df.with_columns(
        *(pl.col(k).str.to_datetime(time_zone="UTC", time_unit="us") for k in _DATETIMES),
        *(pl.col(k).str.to_date() for k in ("startDate", "endDate")),
    )


def shared_frames(t: Tables) -> dict[str, pl.DataFrame]:
    """One DataFrame per shared-node template, one row per node (kg writes each node once)."""
    return {
        "t:Class": pl.DataFrame(
            {
                "cls": list(t.classes),
                "label": [v[0] for v in t.classes.values()],
                "meta": [KG + v[1] for v in t.classes.values()],
            },
            schema={"cls": pl.String, "label": pl.String, "meta": pl.String},
        ),
        "t:Topic": pl.DataFrame(
            {
                "concept": list(t.topics),
                "label": [v[0] for v in t.topics.values()],
                "scheme": [v[1] for v in t.topics.values()],
            }
        ),
        "t:Scheme": pl.DataFrame({"scheme": list(t.schemes), "label": list(t.schemes.values())}),
        "t:Person": pl.DataFrame({"person": list(t.people), "name": list(t.people.values())}),
        "t:Community": pl.DataFrame(
            {
                "community": list(t.communities),
                "label": [v[0] for v in t.communities.values()],
                "mastHead": [v[1] for v in t.communities.values()],
                "path": [v[2] for v in t.communities.values()],
            },
            schema={"community": pl.String, "label": pl.String, "mastHead": pl.String, "path": pl.String},
        ),
        "t:Brand": pl.DataFrame(
            {
                "brand": list(t.brands),
                "name": [v[0] for v in t.brands.values()],
                "url": [v[1] for v in t.brands.values()],
            },
            schema={"brand": pl.String, "name": pl.String, "url": pl.String},
        ),
    }


def _read_chunk(args: tuple[list[Path], Path]) -> Tables:
    return read_files(*args)


def read_corpus(paths: list[Path], root: Path, jobs: int) -> Tables:
    """`read_files` in one process, or over `jobs` worker processes (rows merged in file order)."""
    if jobs <= 1:
        return read_files(paths, root)
    size = max(16, len(paths) // (jobs * 8) or 1)
    chunks = [(paths[i : i + size], root) for i in range(0, len(paths), size)]
    tables = Tables()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for part in pool.map(_read_chunk, chunks):
            tables.merge(part)
    return tables


def run(corpus: Path, out: Path, formats: list[str], jobs: int = 1) -> tuple[Stages, int]:
    """Map every curation under `corpus` into `out`; return the stage timings and the triple count."""
    stages = Stages()
    with stages.stage("list files") as row:
        paths = list_files(corpus)
        row["files"] = len(paths)
    with stages.stage(f"read + CSafeLoader + rows ({jobs} process{'es' if jobs > 1 else ''})"):
        tables = read_corpus(paths, corpus, jobs)
    with stages.stage("Polars DataFrames"):
        curations = curation_frame(tables.curations)
        shared = shared_frames(tables)
        del tables
    with stages.stage("maplib map (OTTR templates)") as row:
        model = Model()
        model.add_template(TEMPLATES)
        model.map("t:Curation", curations)
        for template, frame in shared.items():
            model.map(template, frame)
        del curations, shared
        triples = model.size()
        row["triples"] = triples
    out.mkdir(parents=True, exist_ok=True)
    if "ntriples" in formats:
        with stages.stage("maplib write N-Triples"):
            model.write(out / "curations.nt", format="ntriples")
    if "turtle" in formats:
        with stages.stage("maplib write Turtle"):
            model.write(out / "curations.ttl", format="turtle", prefixes=TURTLE_PREFIXES)
    return stages, triples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.maplib_map", description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--formats", default="ntriples", help="ntriples and/or turtle, comma-separated")
    parser.add_argument("--jobs", type=int, default=1, help="processes that read and parse the files")
    parser.add_argument("--result", type=Path, default=None, help="write the stage timings here (JSON)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    stages, triples = run(args.corpus, args.out, args.formats.split(","), args.jobs)
    result: dict[str, Any] = {
        "stages": stages.rows,
        "triples": triples,
        "peak_rss_mb": peak_rss_self_mb(),
        "task_seconds": time.perf_counter() - started,
    }
    if args.result is not None:
        args.result.write_text(json.dumps(result, indent=1), encoding="utf-8")
    else:
        json.dump(result, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
