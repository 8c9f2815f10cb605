"""`kg serve`: a SPARQL 1.1 Protocol endpoint and a browser query page over a store (issue 16).

The SPARQL work is done by the real Oxigraph server (kg.store.oxigraph: `oxigraph
serve-read-only --location DIR --union-default-graph`, or `serve` with `--writable`) on
127.0.0.1 and a port of its own; in front of it, on the address the user asked for, kg's small
pass-through server (kg.store.front) answers `/` with kg's query page and forwards the rest.
Oxigraph decides what is allowed: in read-only mode it refuses updates and Graph Store writes
(HTTP 403). The default graph is the union of the named graphs, so plain SPARQL written
without `GRAPH ?g` answers (issue 15).

This module is the lifecycle. The public address is bound first (a port in use is an error
before anything starts); DATA is loaded (into --store, or a temporary store removed on exit);
Oxigraph is started; "serving at URL" is printed only once Oxigraph answers. SIGINT or SIGTERM
stops the pass-through server, then Oxigraph (SIGTERM, SIGKILL after `STOP_TIMEOUT`), removes a
temporary store, and `serve` returns 0.

May touch: the embedded store (to load DATA, with kg.store.load and kg.store.sync), signals,
threads, temporary folders.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.map.curation import IriScheme
from kg.rdf.namespaces import DEFAULT_BASE_IRI
from kg.store.front import bind_front, url_of
from kg.store.load import collect, is_store_dir, open_store
from kg.store.oxigraph import (
    STOP_TIMEOUT,
    Oxigraph,
    ServeError,
    oxigraph_binary,
    oxigraph_version,
    start_oxigraph,
)

DEFAULT_HOST = "127.0.0.1"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
DEFAULT_PORT = 7878


# --- the store --------------------------------------------------------------------------------


def load_into(store_dir: Path, paths: list[Path], base_iri: str) -> str:
    """Load `paths` into the embedded store at `store_dir` as `kg load` does (an export folder
    is synced; sources and RDF files replace their graphs); a one-line summary.

    Raises kg.store.load's `DataError`/`LoadError`, kg.store.sync's and kg.pipeline.incremental's errors,
    `SourceError`: the caller reports them."""
    # lazy: kg.store.sync (with rdflib) takes ~0.16 s to import, which serving a store without
    # DATA does not need. tests/store/test_serve.py's second signal during the load also counts on
    # this time after "loading" is said.
    from kg.pipeline.incremental import Manifest
    from kg.store import sync

    exports = [p for p in paths if sync.is_export_folder(p)]
    if exports and len(paths) > 1:
        raise ServeError(f"{exports[0]} is an export folder: serve it on its own, without other DATA")
    target = sync.EmbeddedTarget(open_store(store_dir), str(store_dir))
    try:
        if exports:
            result = sync.sync(target, Manifest(exports[0]))
            return f"synced export {exports[0]} ({result.plan.summary()})"
        collected = collect(paths, IriScheme(base_iri))
        loaded = sync.load(target, base_iri, collected)
        failed = collected.failed_files()
        note = f"; {failed} source files failed to export" if failed else ""
        return f"loaded {loaded.graphs} graphs ({loaded.triples} triples){note}"
    finally:
        target.close()


# --- kg serve -----------------------------------------------------------------------------------


@dataclass
class Options:
    store_dir: Path | None  # None: a temporary store (only with data)
    data: list[Path]
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    writable: bool = False
    base_iri: str = DEFAULT_BASE_IRI


@contextlib.contextmanager
def _store_for(options: Options, say: Callable[[str], None]) -> Iterator[Path]:
    """The store to serve: the one named (loaded first with DATA), or a temporary one holding
    DATA, removed afterwards (also when the load fails or is interrupted)."""
    count = f"{len(options.data)} DATA path{'s' if len(options.data) != 1 else ''}"
    if options.store_dir is None:
        temporary = Path(tempfile.mkdtemp(prefix="kg-serve-"))
        try:
            store_dir = temporary / "store"
            say(f"kg serve: loading {count} into a temporary store, {store_dir}")
            say(f"kg serve: {load_into(store_dir, options.data, options.base_iri)}")
            yield store_dir
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        return
    store_dir = options.store_dir
    if options.data:
        say(f"kg serve: loading {count} into {store_dir}")
        say(f"kg serve: {load_into(store_dir, options.data, options.base_iri)}")
    elif not is_store_dir(store_dir) and not options.writable:
        raise ServeError(
            f"no store at {store_dir}: load one with `kg load DATA --store {store_dir}`, "
            "or give DATA to serve (an export folder, RDF files or curation sources)"
        )
    yield store_dir


@dataclass
class _Stopper:
    """SIGINT and SIGTERM while kg serve runs: while loading, a first signal lets the load
    finish (a store is never left half loaded), then kg serve stops without serving; a second
    one interrupts the load. Once loaded, a signal sets `stop`: Oxigraph is stopped in order."""

    stop: threading.Event
    say: Callable[[str], None]
    loading: bool = True

    def on_signal(self, signum: int, frame: object) -> None:
        if self.loading and self.stop.is_set():
            raise KeyboardInterrupt
        if self.loading:
            self.say("kg serve: stopping once the load is done (again to interrupt it)")
        self.stop.set()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _banner(options: Options, version: str, store_dir: Path, url: str) -> list[str]:
    """What kg serve says once Oxigraph answers, before "serving at URL"."""
    mode = "read-write" if options.writable else "read-only"
    lines = [
        f"kg serve: Oxigraph {version}, {mode}, store {store_dir}; SPARQL endpoint "
        f"{url}query, updates {url}update, Graph Store {url}store; Ctrl-C stops"
    ]
    if options.host not in LOOPBACK:
        lines.append(
            f"kg serve: listening on {options.host}: other machines can reach it, "
            "with no authentication" + (" and write to the store" if options.writable else "")
        )
    return lines


def _wait(oxigraph: Oxigraph, stop: threading.Event) -> None:
    """Until `stop` is set; ServeError when Oxigraph stops by itself."""
    while not stop.wait(0.2):
        if oxigraph.process.poll() is not None:
            code = oxigraph.process.returncode
            raise ServeError(f"the Oxigraph server stopped by itself (exit {code}):\n{oxigraph.log_tail()}")


def serve(
    options: Options,
    say: Callable[[str], None],
    announce: Callable[[str], None],
    stop: threading.Event | None = None,
) -> int:
    """Run kg serve until SIGINT/SIGTERM (or `stop` is set): 0 after a clean stop.

    `say` gets progress lines, `announce` the "serving at URL" line. Raises ServeError (and
    the loading errors of `load_into`) when it cannot start or Oxigraph stops by itself."""
    stop = stop or threading.Event()
    binary = oxigraph_binary()
    version = oxigraph_version(binary)
    stopper = _Stopper(stop, say)
    with stopper.installed():
        # The public address first: a port in use is reported before anything is loaded.
        front = bind_front(options.host, options.port, ("127.0.0.1", 0), options.base_iri)
        try:
            with _store_for(options, say) as store_dir:
                stopper.loading = False
                if stop.is_set():
                    say("kg serve: stopped before serving")
                    return 0
                oxigraph = start_oxigraph(binary, store_dir, options.writable)
                thread = threading.Thread(target=front.serve_forever, name="kg-serve", daemon=True)
                try:
                    if stop.is_set():
                        say("kg serve: stopped before serving")
                        return 0
                    front.upstream = ("127.0.0.1", oxigraph.port)
                    thread.start()
                    url = url_of(options.host, front.server_address[1])
                    for line in _banner(options, version, store_dir, url):
                        say(line)
                    announce(f"serving at {url}")
                    _wait(oxigraph, stop)
                finally:
                    if thread.is_alive():
                        front.shutdown()
                        thread.join(timeout=STOP_TIMEOUT)
                    oxigraph.stop()
        finally:
            front.server_close()
    say("kg serve: stopped")
    return 0
