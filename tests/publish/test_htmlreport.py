"""`kg report`: the HTML page's numbers equal report.json, the library queries and `kg validate`;
it references nothing outside itself; it is deterministic; and in a real headless Chromium it
loads with no request and no console error, and every chart draws its bars."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.pipeline.export import export
from kg.publish.report import TOP, month_series
from kg.sparql.query import run
from tests.conftest import EXAMPLES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page(HTMLParser):
    """The page's charts (figure id -> [(label, value)]), total tiles, and every URL it names."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.totals: dict[str, int] = {}
        self.urls: list[str] = []
        self.tags: Counter[str] = Counter()
        self._figure: str | None = None
        self._tile: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] += 1
        self.urls += [v for k, v in attrs if k in ("href", "src", "action", "data", "poster") and v]
        if tag == "figure":
            self._figure = a.get("id")
        if tag == "g" and a.get("class") == "bar" and self._figure:
            self.charts[self._figure].append((str(a["data-label"]), int(str(a["data-value"]))))
        if tag == "div" and "data-total" in a:
            self._tile = a["data-total"]

    def handle_data(self, data: str) -> None:
        if self._tile and data.strip():
            self.totals[self._tile] = int(data)
            self._tile = None


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    export([EXAMPLES], out)
    return out


@pytest.fixture(scope="module")
def page(exported: Path) -> Path:
    result = CliRunner().invoke(main, ["report", str(exported), "--sources", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    return exported / "report.html"


def parsed(page: Path) -> Page:
    parser = Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_numbers_equal_report_json_and_the_library_queries(exported: Path, page: Path) -> None:
    p = parsed(page)
    totals = json.loads((exported / "report.json").read_text())["totals"]
    for key in ("files", "exported", "skipped", "failed", "field_problems", "triples"):
        assert p.totals[key] == totals[key], key
    nq = [exported / "curations.nq"]
    brands = [(r["brand"], r["curations"]) for r in run("brand-counts", nq)][:TOP]
    assert p.charts["chart-brands"] == brands
    months = month_series(run("curations-per-month", nq))
    assert p.charts["chart-months"] == months
    assert sum(v for _, v in months) == sum(int(str(r["curations"])) for r in run("curations-per-month", nq))
    topics = run("topic-counts", nq)
    top_scheme = str(topics[0]["scheme"])  # the scheme with the most curations comes first here
    first = [(r["topic"], r["curations"]) for r in topics if r["scheme"] == top_scheme][:TOP]
    assert any(chart == first for chart in p.charts.values())
    gaps = Counter(g for r in run("quality-gaps", nq) for g in str(r["missing"]).split(", "))
    assert dict(p.charts["chart-gaps"]) == dict(gaps)
    owl = p.charts["chart-owlType"]
    assert sum(v for _, v in owl) == totals["exported"]  # every example curation has one owlType


def test_validation_counts_equal_kg_validate(exported: Path, page: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(exported / "curations.nq"), "--format", "json"])
    by_severity = Counter(r["severity"] for r in json.loads(result.output))
    p = parsed(page)
    for severity in ("Violation", "Warning", "Info"):
        assert p.totals[severity.lower() + "s"] == by_severity[severity], severity
    assert by_severity["Warning"] > 0  # the examples have warnings, so the comparison means something


def test_the_page_names_nothing_outside_itself(page: Path) -> None:
    p = parsed(page)
    assert p.urls, "the page should link the source files it names"
    for url in p.urls:
        assert ":" not in url.split("/")[0], f"absolute URL in the page: {url}"
        assert (page.parent / url).resolve().is_file(), f"broken link: {url}"
    assert not (p.tags["script"] or p.tags["link"] or p.tags["img"] or p.tags["iframe"])


def test_same_export_same_page(exported: Path, page: Path) -> None:
    # links are relative to where the page is, so compare two pages written to the same place
    second = CliRunner().invoke(main, ["report", str(exported), "--sources", str(EXAMPLES)])
    assert second.exit_code == 0 and (exported / "report.html").read_bytes() == page.read_bytes()


def test_a_folder_without_nquads_is_exit_2(tmp_path: Path) -> None:
    export([EXAMPLES], tmp_path, ["turtle"])
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "curations.nq" in result.output
    assert not (tmp_path / "report.html").exists()


def _png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB or RGBA non-interlaced PNG (what Chromium's screenshots are)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        chunk = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        prev = line
    return width, channels, rows


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_in_a_real_browser_no_request_no_error_and_every_chart_draws(page: Path) -> None:
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.on("request", lambda r: requests.append(r.url))
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(page.as_uri(), wait_until="load")
            charts = tab.locator("figure.chart svg")
            assert charts.count() >= 5
            for i in range(charts.count()):
                width, channels, rows = _png_pixels(charts.nth(i).screenshot())
                bar = sum(
                    1
                    for row in rows
                    for x in range(width)
                    if abs(row[x * channels] - 0x3F) < 8 and abs(row[x * channels + 2] - 0xB5) < 8
                )
                assert bar > 50, f"chart {i} drew no bars"
        finally:
            browser.close()
    assert requests == [page.as_uri()], requests
    assert errors == []
