"""The sync state a store keeps about itself: what each curation graph it holds was synced
from, so that the next sync sends only what changed (used by `kg.store.sync`).

The state lives in one graph of the store, `IriScheme.sync_state_graph()` (`{base}graph/kg-sync`):

    <{base}graph/kg-sync> a kg:SyncState ; kg:syncedExport "<export id>" .
    <graph IRI> kg:graphDigest "<sha256 of the graph as exported>" .   # one per graph

and the digest of that state in a second one, `IriScheme.sync_check_graph()`
(`{base}graph/kg-sync-check`):

    <{base}graph/kg-sync> kg:stateDigest "<sha256 of the state graph's N-Triples>" .

A state is trusted only when its graph holds nothing kg does not write there and its digest
is the one the check graph records (`read_state`). This module reads and writes those two
graphs through any store that can read and replace a whole graph (`GraphStore`); it decides
nothing about which graphs a sync sends.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph

from kg.errors import bounded
from kg.map.curation import IriScheme
from kg.map.nodes import node_graph_prefixes
from kg.rdf.vocab import KG

#: The digest recorded for a graph while a write of it may be incomplete.
PENDING = "pending"
_DIGEST = re.compile(r"[0-9a-f]{64}")
_XSD_STRING = pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#string")
_STATE_DIGEST = pyoxigraph.NamedNode(str(KG.stateDigest))
_RDF_TYPE = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SYNC_STATE = pyoxigraph.NamedNode(str(KG.SyncState))
_SYNCED_EXPORT = pyoxigraph.NamedNode(str(KG.syncedExport))
_GRAPH_DIGEST = pyoxigraph.NamedNode(str(KG.graphDigest))


class GraphStore(Protocol):
    """A store whose graphs are read and replaced whole (`kg.store.sync.Target` is one)."""

    def read(self, graph: str) -> list[pyoxigraph.Triple] | None:
        """The triples of `graph`, or None when the store has no such graph."""

    def put(self, graph: str, ntriples: bytes) -> None:
        """Replace `graph` with these triples."""


class DamagedState(Exception):
    """A sync state graph holding what kg does not write (the message says what)."""


@dataclass(slots=True)
class State:
    """What a store holds according to its sync state: the export id and each graph's digest."""

    export: str | None = None
    digests: dict[str, str] = field(default_factory=dict)

    def ntriples(self, graph: str) -> bytes:
        """The state as the N-Triples of its graph (sorted: the same state, the same bytes)."""
        me = pyoxigraph.NamedNode(graph)
        lines = [f"{me} {_RDF_TYPE} {_SYNC_STATE} .\n"]
        if self.export is not None:
            lines.append(f"{me} {_SYNCED_EXPORT} {pyoxigraph.Literal(self.export)} .\n")
        lines += [
            f"{pyoxigraph.NamedNode(g)} {_GRAPH_DIGEST} {pyoxigraph.Literal(d)} .\n"
            for g, d in sorted(self.digests.items())
        ]
        return "".join(lines).encode("utf-8")

    def digest(self, graph: str) -> str:
        """sha256 of `ntriples(graph)`: what the check graph records for this state."""
        return hashlib.sha256(self.ntriples(graph)).hexdigest()

    @classmethod
    def from_triples(cls, triples: Iterable[pyoxigraph.Triple], graph: str, owned: tuple[str, ...]) -> State:
        """The state kept in `graph`; `DamagedState` if it holds any triple kg does not write
        there (another subject or predicate, a value of the wrong type, a malformed digest, a
        digest of a graph outside `owned`, two values where kg writes one) or lacks its type."""
        state = cls()
        me = pyoxigraph.NamedNode(graph)
        typed = False
        for t in triples:
            s, p, value = t.subject, t.predicate, _string(t.object)
            if p == _RDF_TYPE and s == me and t.object == _SYNC_STATE:
                typed = True
            elif p == _SYNCED_EXPORT and s == me and value is not None and state.export is None:
                state.export = value
            elif (
                p == _GRAPH_DIGEST
                and isinstance(s, pyoxigraph.NamedNode)
                and s.value.startswith(owned)
                and s.value not in state.digests
                and value is not None
                and (value == PENDING or _DIGEST.fullmatch(value))
            ):
                state.digests[s.value] = value
            else:
                raise DamagedState(f"a triple kg does not write there: {bounded(str(t))}")
        if not typed:
            raise DamagedState(f"it does not say {me} a {_SYNC_STATE}")
        return state


def _string(term: object) -> str | None:
    """The value of a plain string literal (as kg writes them), else None."""
    if isinstance(term, pyoxigraph.Literal) and term.datatype == _XSD_STRING and not term.language:
        return term.value
    return None


def owned_graphs(iris: IriScheme) -> tuple[str, ...]:
    """The graphs a sync keeps equal to an export's, by prefix: the curation graphs, the shared
    nodes' graphs (`kg.map.nodes`: a node no curation uses any more loses its graph) and the
    taxonomy graph an export written with `--taxonomy` holds (`{base}graph/taxonomy`)."""
    nodes = node_graph_prefixes(iris.base)
    return (*iris.curation_graph_prefixes(), *nodes, iris.taxonomy_graph())


def read_state(target: GraphStore, iris: IriScheme) -> tuple[State | None, str | None]:
    """The store's sync state if it can be trusted, else None and (if there was one) why not.

    Trusted: the state graph holds only what kg writes there (`State.from_triples`) and its
    digest is the one recorded in the check graph, so it is the state kg wrote last, whole.
    """
    me = iris.sync_state_graph()
    triples = target.read(me)
    if triples is None:
        return None, None
    try:
        state = State.from_triples(triples, me, owned_graphs(iris))
    except DamagedState as exc:
        return None, f"the sync state in graph {me} is damaged ({exc}), so it is ignored"
    check = iris.sync_check_graph()
    recorded = _recorded_digest(target.read(check) or [], me)
    if recorded != state.digest(me):
        return None, (
            f"the sync state in graph {me} does not match the digest in graph {check} (an older "
            "copy put back, a write of it interrupted, or written by an older kg), so it is ignored"
        )
    return state, None


def _recorded_digest(triples: list[pyoxigraph.Triple], graph: str) -> str | None:
    """The state digest the check graph records, if it holds exactly that and nothing else."""
    if len(triples) != 1:
        return None
    t = triples[0]
    value = _string(t.object)
    if t.subject != pyoxigraph.NamedNode(graph) or t.predicate != _STATE_DIGEST or value is None:
        return None
    return value if _DIGEST.fullmatch(value) else None


def write_state(target: GraphStore, iris: IriScheme, state: State) -> None:
    """Write the state, then its digest in the check graph (a crash in between leaves the two
    unmatched: the next sync does not trust the state, and sends every graph)."""
    me = iris.sync_state_graph()
    data = state.ntriples(me)
    target.put(me, data)
    digest = hashlib.sha256(data).hexdigest()  # (`State.digest`)
    check = f"{pyoxigraph.NamedNode(me)} {_STATE_DIGEST} {pyoxigraph.Literal(digest)} .\n"
    target.put(iris.sync_check_graph(), check.encode("utf-8"))
