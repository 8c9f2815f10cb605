"""Reading inputs: discovering source files, front matter and YAML, normalising values,
and reading RDF files. Knows nothing of RDF output, stores or validation."""
