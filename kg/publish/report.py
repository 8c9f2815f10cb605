"""One self-contained HTML page per export: what the export holds and what is wrong with it.

For readers who do not write SPARQL: coverage per community, owlType and work-package type;
curations per month; top topics per scheme and top brands; validation results by severity and
shape, linked to the files; quality gaps; and the run's file accounting. Every number comes from
the export's own `report.json` or from the library queries run on its `curations.nq`, the same
answers `kg query` gives, so the page cannot disagree with them (tests compare).

The page makes no request: no script, no font, no image from anywhere; charts are inline SVG
drawn here, each followed by its numbers as a table, so it reads the same without JavaScript,
in a mail client or printed. It holds no clock time, so the same export gives the same page.
"""

from __future__ import annotations

import html
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph

from kg.errors import KgError
from kg.sparql.library import adhoc
from kg.sparql.query import execute, run
from kg.store.load import memory_store
from kg.validation.model import SEVERITIES, ValidationReport

#: The page's name in the export folder.
REPORT_PAGE = "report.html"
#: Rows in a "top" chart.
TOP = 15
#: Schemes shown with their own top-topics chart (the schemes with the most curations).
TOP_SCHEMES = 6

#: Curations per owlType and per work-package type (the classes minted from those values).
TYPE_COUNTS = """
SELECT ?kind ?type (COUNT(DISTINCT ?c) AS ?curations) WHERE {
  ?c a kg:Curation, ?class .
  { SELECT DISTINCT ?class ?meta ?type WHERE { ?class a ?meta ; rdfs:label ?type } }
  VALUES (?meta ?kind) { (kg:OwlTypeClass "owlType") (kg:WorkPackageTypeClass "work-package type") }
} GROUP BY ?kind ?type ORDER BY ?kind DESC(?curations) ?type
"""


class ReportPageError(KgError):
    """The export folder lacks what the page is made from (the message names the file)."""


@dataclass
class PageData:
    """Everything the page shows, gathered before any HTML is written."""

    totals: dict[str, int]
    files: list[dict[str, Any]]
    communities: list[dict[str, object]]
    types: list[dict[str, object]]
    months: list[dict[str, object]]
    topics: list[dict[str, object]]
    brands: list[dict[str, object]]
    gaps: list[dict[str, object]]
    validation: ValidationReport | None = None
    sources: Path | None = None  # where the source files are, to link them
    notes: list[str] = field(default_factory=list)


def gather(
    out_dir: Path, validation: ValidationReport | None = None, sources: Path | None = None
) -> PageData:
    """Read `report.json` and run the library queries on `curations.nq` of `out_dir`."""
    report_path, nquads = out_dir / "report.json", out_dir / "curations.nq"
    for needed in (report_path, nquads):
        if not needed.is_file():
            raise ReportPageError(f"{needed}: not found (the page is made from an export with N-Quads)")
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        totals, files = dict(report["totals"]), list(report["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReportPageError(f"{report_path}: not a kg report: {exc}") from None
    store: pyoxigraph.Store = memory_store([nquads])
    return PageData(
        totals=totals,
        files=files,
        communities=run("community-summary", store),
        types=execute(adhoc(TYPE_COUNTS), store).rows(),
        months=run("curations-per-month", store),
        topics=run("topic-counts", store),
        brands=run("brand-counts", store),
        gaps=run("quality-gaps", store),
        validation=validation,
        sources=sources,
    )


# --- HTML -----------------------------------------------------------------------------------------

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2330}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #d8dce4;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}
td,th{padding:.15rem .6rem;text-align:left;border-bottom:1px solid #eceef2;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.tiles{display:flex;flex-wrap:wrap;gap:.8rem}
.tile{border:1px solid #d8dce4;border-radius:6px;padding:.5rem 1rem}.tile b{display:block;font-size:1.5rem}
.Violation{color:#b3261e}.Warning{color:#8a5a00}.Info{color:#31588a}
figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}svg text{font:12px system-ui,sans-serif}
details summary{cursor:pointer;color:#31588a}code{font-size:.9em}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(columns: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[str] = ()) -> str:
    kinds = ["n" if c in numeric else "" for c in columns]
    head = "".join(f'<th class="{k}">{_e(c)}</th>' for k, c in zip(kinds, columns, strict=True))

    def cells(row: Sequence[object]) -> str:
        return "".join(f'<td class="{k}">{v}</td>' for k, v in zip(kinds, row, strict=True))

    body = "".join(f"<tr>{cells(row)}</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar_chart(chart_id: str, caption: str, items: Sequence[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG, then the same numbers as a table."""
    if not items:
        return f'<figure id="{_e(chart_id)}"><figcaption>{_e(caption)}</figcaption><p>None.</p></figure>'
    label_w, bar_w, row_h = 300, 420, 22
    top = max(v for _, v in items) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        y = i * row_h
        width = max(1, round(bar_w * value / top))
        short = label if len(label) <= 44 else label[:43] + "…"
        bars.append(
            f'<g class="bar" data-label="{_e(label)}" data-value="{value}">'
            f"<title>{_e(label)}: {value}</title>"
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{_e(short)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{width}" height="{row_h - 6}" fill="#3f6fb5"/>'
            f'<text x="{label_w + width + 4}" y="{y + 15}">{value}</text></g>'
        )
    return _figure(chart_id, caption, items, "item", label_w + bar_w + 60, row_h * len(items), "".join(bars))


def _figure(
    chart_id: str, caption: str, items: Sequence[tuple[str, int]], key: str, w: int, h: int, svg: str
) -> str:
    """A chart's figure: the SVG, then its numbers as a table for readers without the picture."""
    table = _table((key, "curations"), ((_e(k), v) for k, v in items), numeric=("curations",))
    return (
        f'<figure id="{_e(chart_id)}" class="chart"><figcaption>{_e(caption)}</figcaption>'
        f'<svg role="img" aria-label="{_e(caption)}" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}">{svg}</svg>'
        f"<details><summary>numbers</summary>{table}</details></figure>"
    )


def column_chart(chart_id: str, caption: str, items: Sequence[tuple[str, int]]) -> str:
    """A column chart (a time series) as inline SVG, then the numbers as a table."""
    if not items:
        return f'<figure id="{_e(chart_id)}"><figcaption>{_e(caption)}</figcaption><p>None.</p></figure>'
    col_w, chart_h, base = max(8, min(40, 900 // len(items))), 180, 200
    top = max(v for _, v in items) or 1
    cols = []
    for i, (label, value) in enumerate(items):
        h = round(chart_h * value / top)
        x = 30 + i * col_w
        cols.append(
            f'<g class="bar" data-label="{_e(label)}" data-value="{value}">'
            f"<title>{_e(label)}: {value}</title>"
            f'<rect x="{x}" y="{base - h}" width="{col_w - 2}" height="{h}" fill="#3f6fb5"/></g>'
        )
    first, last = items[0][0], items[-1][0]
    width = 60 + col_w * len(items)
    axis = (
        f'<line x1="28" y1="{base}" x2="{width}" y2="{base}" stroke="#888"/>'
        f'<text x="30" y="{base + 16}">{_e(first)}</text>'
        f'<text x="{width}" y="{base + 16}" text-anchor="end">{_e(last)}</text>'
        f'<text x="24" y="{base - chart_h + 4}" text-anchor="end">{top}</text>'
    )
    return _figure(chart_id, caption, items, "month", width + 10, base + 24, axis + "".join(cols))


def _file_link(path: str, data: PageData, page_dir: Path) -> str:
    if data.sources is None:
        return f"<code>{_e(path)}</code>"
    target = os.path.relpath(data.sources / path, page_dir)
    return f'<a href="{_e(Path(target).as_posix())}"><code>{_e(path)}</code></a>'


def _summary(data: PageData) -> str:
    t = data.totals
    tiles = [
        (k, t.get(k, 0)) for k in ("files", "exported", "skipped", "failed", "field_problems", "triples")
    ]
    if data.validation is not None:
        tiles += [(s.lower() + "s", data.validation.count(s)) for s in SEVERITIES]
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile" data-total="{_e(k)}"><b>{v}</b>{_e(k.replace("_", " "))}</div>'
            for k, v in tiles
        )
        + "</div>"
    )


def _coverage(data: PageData) -> str:
    cols = ("community", "curations", "topics", "brands", "first", "last")
    rows = [[_e(r.get(c)) for c in cols] for r in data.communities]
    out = "<h2>Coverage</h2><h3>Per community</h3>" + _table(cols, rows, numeric=cols[1:4])
    for kind in ("owlType", "work-package type"):
        items = [(str(r["type"]), int(str(r["curations"]))) for r in data.types if r["kind"] == kind]
        out += bar_chart(f"chart-{kind.replace(' ', '-')}", f"Curations per {kind}", items)
    return out


def _topics(data: PageData) -> str:
    per_scheme: dict[str, list[tuple[str, int]]] = {}
    weight: Counter[str] = Counter()
    for row in data.topics:
        scheme, count = str(row["scheme"]), int(str(row["curations"]))
        per_scheme.setdefault(scheme, []).append((str(row["topic"]), count))
        weight[scheme] += count
    schemes = sorted(weight, key=lambda s: (-weight[s], s))[:TOP_SCHEMES]
    out = "<h2>Topics and brands</h2>"
    for i, scheme in enumerate(schemes):
        out += bar_chart(f"chart-topics-{i}", f"Top topics of {scheme}", per_scheme[scheme][:TOP])
    brands = [(str(r["brand"]), int(str(r["curations"]))) for r in data.brands[:TOP]]
    return out + bar_chart("chart-brands", "Top source brands", brands)


def _validation(data: PageData, page_dir: Path) -> str:
    if data.validation is None:
        return "<h2>Validation</h2><p>Not validated (run <code>kg report</code> without --no-validate).</p>"
    results = data.validation.results
    by_shape = Counter((r.severity, r.source_shape or "(no shape)") for r in results)
    rows = [
        (f'<span class="{s}">{s}</span>', _e(shape), n)
        for (s, shape), n in sorted(
            by_shape.items(), key=lambda kv: (SEVERITIES.index(kv[0][0]), -kv[1], kv[0][1])
        )
    ]
    out = "<h2>Validation</h2>" + _table(("severity", "shape", "results"), rows, numeric=("results",))
    listed = [
        (
            f'<span class="{r.severity}">{r.severity}</span>',
            ", ".join(_file_link(f, data, page_dir) for f in r.source_files) or "—",
            _e(r.key or ""),
            _e(r.message),
        )
        for r in results
    ]
    if listed:
        out += "<details><summary>every result</summary>"
        out += _table(("severity", "file", "key", "message"), listed) + "</details>"
    return out


def _gaps(data: PageData, page_dir: Path) -> str:
    missing: Counter[str] = Counter()
    for row in data.gaps:
        for gap in str(row["missing"]).split(", "):
            missing[gap] += 1
    out = "<h2>Quality gaps</h2>" + bar_chart(
        "chart-gaps", "Curations missing…", sorted(missing.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    rows = [
        (_file_link(str(r["source"]), data, page_dir), _e(r["title"]), _e(r["missing"])) for r in data.gaps
    ]
    return (
        out
        + "<details><summary>every curation with a gap</summary>"
        + _table(("file", "title", "missing"), rows)
        + "</details>"
    )


def _accounting(data: PageData, page_dir: Path) -> str:
    counts = Counter(str(f["status"]) for f in data.files)
    out = "<h2>Files</h2>" + _table(
        ("status", "files"), [(_e(s), n) for s, n in sorted(counts.items())], numeric=("files",)
    )
    not_exported = [f for f in data.files if f["status"] != "exported"]
    if not_exported:
        rows = [
            (_e(f["status"]), _file_link(str(f["path"]), data, page_dir), _e(f.get("reason")))
            for f in not_exported
        ]
        out += "<details><summary>files not exported</summary>"
        out += _table(("status", "file", "reason"), rows) + "</details>"
    return out


def month_series(rows: Sequence[dict[str, object]]) -> list[tuple[str, int]]:
    """(YYYY-MM, curations) for every month from the first to the last, 0 where the query lists
    none, so the columns of the chart are evenly spaced in time."""
    counts = {str(r["month"]): int(str(r["curations"])) for r in rows}
    valid = sorted(m for m in counts if len(m) == 7 and m[:4].isdigit() and m[5:].isdigit() and m[4] == "-")
    if not valid:
        return sorted(counts.items())
    year, month = int(valid[0][:4]), int(valid[0][5:])
    series = []
    while (key := f"{year:04d}-{month:02d}") <= valid[-1]:
        series.append((key, counts.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return series


def render(data: PageData, page_dir: Path) -> str:
    """The page (links to source files are made relative to `page_dir`, where it is written)."""
    months = month_series(data.months)
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # nothing may be fetched: no script, style or image from anywhere (inline style only)
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>kg export report</title><style>{STYLE}</style></head><body>",
        "<h1>kg export report</h1>",
        _summary(data),
        _coverage(data),
        "<h2>Over time</h2>",
        column_chart("chart-months", "Curations published per month", months),
        _topics(data),
        _validation(data, page_dir),
        _gaps(data, page_dir),
        _accounting(data, page_dir),
        "</body></html>\n",
    ]
    return "\n".join(parts)
