"""The output formats in one place: each format's name, file name and writer class.

`Writers` hands out the writer of each format for one prefix map, made on first use and kept
(their IRI caches last the process). The writer modules are imported here, not lazily: each
costs about 1 ms to import (`python -X importtime`), and `kg.resources`, the only import of
note among them, is loaded by every command anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kg.rdf.namespaces import Prefixes
from kg.write.jsonld import JsonLdWriter
from kg.write.ntriples import NQuadsWriter, NTriplesWriter
from kg.write.protocol import Writer
from kg.write.turtle import TurtleWriter

#: The output formats kg writes: name -> file name in an export's output folder.
FORMATS: dict[str, str] = {
    "turtle": "curations.ttl",
    "jsonld": "curations.jsonld",
    "ntriples": "curations.nt",
    "nquads": "curations.nq",
}

#: name -> the class of its writers (made with the prefix map to compact IRIs with).
WRITERS: dict[str, Callable[[Prefixes], Writer]] = {
    "turtle": TurtleWriter,
    "jsonld": JsonLdWriter,
    "ntriples": NTriplesWriter,
    "nquads": NQuadsWriter,
}


class Writers:
    """The writer of each format for one prefix map, each made on first use and then kept."""

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.prefixes = Prefixes(prefixes)
        self._made: dict[str, Writer] = {}

    def __getitem__(self, name: str) -> Writer:
        """The writer of format `name`; KeyError naming the formats for any other name."""
        writer = self._made.get(name)
        if writer is None:
            if name not in WRITERS:
                raise KeyError(f"unknown format {name!r}; kg writes {', '.join(WRITERS)}")
            writer = self._made[name] = WRITERS[name](self.prefixes)
        return writer
