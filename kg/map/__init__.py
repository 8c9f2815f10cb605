"""Mapping: the IRI scheme and curation (and taxonomy) -> plain triples. Pure functions."""
