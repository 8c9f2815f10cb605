"""The shared nodes' named graphs: each node many curations link to, described once.

A curation's graph holds only what that curation says (its own triples: the curation, its child
nodes, its graph's provenance). The nodes curations share (topics and their schemes, classes,
communities, brands, authors) each get a named graph of their own, `{base}graph/{node path}`
(`graph/topic/KLAS/Telehealth` for `topic/KLAS/Telehealth`), holding every triple the export's
curations state about that node, once. So plain SPARQL over the union of the named graphs sees
each fact once (Oxigraph's union default graph does not merge duplicates: a triple held by two
graphs is two solutions), and a query joining curations to topic labels reads a topic's label
once instead of once per curation that uses it.

A node's graph exists while some curation links to it: the export writes the graphs of the
nodes its curations use, and sync drops the graph of a node no curation uses any more (every
graph under `IriScheme.node_graph_prefixes` is kg's to manage). Triples the topic taxonomy
already states (a concept's label and scheme, in `{base}graph/taxonomy`) are left out of the
node graphs, so that with a taxonomy too every fact is in one graph only.
Pure: no file access. See docs/graph-model.md, "Named graphs".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from kg.rdf.namespaces import PREFIXES, KGTerms
from kg.rdf.terms import Triple, nt_line
from kg.write.ntriples import quads

A = PREFIXES["rdf"] + "type"


def _typed(graph: str) -> Triple:
    return (graph, A, KGTerms.NodeGraph)


@dataclass(frozen=True, slots=True)
class NodeGraph:
    """One shared node's named graph: its IRI and its N-Triples lines, sorted (`typed` among them)."""

    graph: str
    lines: list[str]

    @property
    def typed(self) -> Triple:
        """`<graph> a kg:NodeGraph`, held in the graph itself (as a curation's graph says it is a
        kg:CurationGraph), so a query finds kg's data graphs by type, whatever the base IRI."""
        return _typed(self.graph)

    def nquads(self) -> str:
        """The graph's N-Quads lines."""
        return quads(self.lines, self.graph)


def node_graphs(shared: Iterable[Triple], *, base: str, stated: Collection[Triple] = ()) -> list[NodeGraph]:
    """The named graphs of the shared nodes described by `shared` (any order, duplicates
    allowed), less the triples in `stated` (the taxonomy's), sorted by graph IRI.

    A triple belongs to the graph of its subject: `{base}graph/` + the subject's path under
    `base`. A subject not minted under `base` is a ValueError: kg mints every shared node there.
    """
    by_subject: dict[str, set[str]] = {}
    for triple in shared:
        if triple not in stated:
            by_subject.setdefault(triple[0], set()).add(nt_line(triple))
    nodes = []
    for subject, lines in by_subject.items():
        if not subject.startswith(base):
            raise ValueError(f"a shared node outside the base IRI {base}: {subject}")
        graph = f"{base}graph/{subject[len(base) :]}"
        lines.add(nt_line(_typed(graph)))
        nodes.append(NodeGraph(graph, sorted(lines)))
    return sorted(nodes, key=lambda node: node.graph)


#: The paths under the base IRI of every kind of node kg shares between curations (as
#: `kg.map.curation.IriScheme` mints them: `topic/...`, `scheme/...` and `scheme-none`, ...).
NODE_PATHS = (
    "topic/",
    "scheme/",
    "scheme-none",
    "community/",
    "brand/",
    "person/",
    "owl-type/",
    "work-package-type/",
)


def node_graph_prefixes(base: str) -> tuple[str, ...]:
    """Where the shared nodes' graphs are under `base`: `{base}graph/topic/`, ... (sync drops
    a graph there that the export does not hold)."""
    return tuple(f"{base}graph/{path}" for path in NODE_PATHS)
