"""Regenerate the screenshots the docs show: `make screenshots` (needs Debian's chromium).

- docs/img/report.png: `kg report` of the bundled examples' export, the whole page;
- docs/img/serve.png: `kg serve` of that export, its query page after running the
  topic-counts query from the library.

Drives the system Chromium with Playwright (no browser download); everything is served from
127.0.0.1. Screenshots are pictures for readers, not test oracles: the browser tests
(tests/publish/test_htmlreport.py, tests/store/test_serve.py) check the same pages.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
KG = [sys.executable, "-m", "kg.cli"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


#: An analyst's query, as written in the page: the PREFIX lines kg puts there and no GRAPH (the
#: served default graph is the union of the named graphs).
QUERY = """SELECT ?scheme ?topic (COUNT(DISTINCT ?c) AS ?curations)
WHERE {
  ?c a kg:Curation ; kg:topic ?t .
  ?t skos:prefLabel ?topic ; skos:inScheme/skos:prefLabel ?scheme .
}
GROUP BY ?scheme ?topic
ORDER BY DESC(?curations) ?scheme ?topic
LIMIT 8"""


def run(*args: str) -> None:
    subprocess.run([*KG, *args], check=True, cwd=ROOT)


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kg-shots-") as tmp:
        out = Path(tmp) / "export"
        run("export", "-o", str(out))
        run("report", str(out), "--sources", str(ROOT / "examples" / "curations"))
        server = subprocess.Popen(
            [*KG, "serve", str(out), "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            url = ""
            for line in server.stdout:
                if "serving at" in line:
                    url = line.split("serving at", 1)[1].split()[0]
                    break
            if not url:
                print("kg serve did not start", file=sys.stderr)
                return 2
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                page.goto((out / "report.html").as_uri())
                page.screenshot(path=str(IMG / "report.png"), full_page=True)
                page.goto(url)
                page.wait_for_selector(".CodeMirror")
                editor = "document.querySelector('.CodeMirror').CodeMirror"
                shown = page.evaluate(f"() => {editor}.getValue()")
                prefixes = [line for line in shown.splitlines() if line.upper().startswith("PREFIX")]
                page.evaluate(f"q => {editor}.setValue(q)", "\n".join([*prefixes, "", QUERY]))
                page.click(".yasqe_queryButton")
                page.wait_for_selector(".yasr table tbody tr", timeout=30000)
                page.screenshot(path=str(IMG / "serve.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    for name in ("report.png", "serve.png"):
        print(f"wrote {IMG / name} ({(IMG / name).stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
