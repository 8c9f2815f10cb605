"""Shared RDF basics: the term model, IRI encoding, the one prefix map and the vocabulary
generated from ontology/kg.ttl. Depends on nothing else in kg."""
