"""SPARQL: the query library (queries/*.rq), safe parameter binding, results and formats."""
