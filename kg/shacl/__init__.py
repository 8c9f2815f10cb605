"""SHACL engines: the fast engine, the reference (pySHACL) and XSD value semantics."""
