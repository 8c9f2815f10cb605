"""Writing outputs: one writer per RDF format behind one protocol (`protocol`: `turtle`, `jsonld`,
`ntriples` for N-Triples and N-Quads), the format registry (`registry`), streaming blocks to the
output files (`streams`) and atomic files (`files`). May touch: kg.rdf, kg.resources."""
