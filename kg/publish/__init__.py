"""Publishing an export: the HTML report page (`report`), the dataset description (VoID, DCAT:
`void`), the statistics of a graph (`stats`) and the ontology's generated docs (`ontodoc`).

`DESCRIPTION_NAME` is here, not in `void`, so that the export and its commit can name the file
without importing the parser the description is computed with (`kg export` starts without
pyoxigraph)."""

#: The name of the dataset description (`kg.publish.void`) in an export folder.
DESCRIPTION_NAME = "void.ttl"
