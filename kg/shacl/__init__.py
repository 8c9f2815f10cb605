"""SHACL engines: the fast engine (`fast`: compiled shapes, Core constraints, set-based SPARQL
constraints, report graphs), the reference engine (`reference`: pySHACL), the interface they
share (`engine`) and XSD value semantics (`xsd`). Nothing here knows about source files: that
is `kg.validation`'s."""
