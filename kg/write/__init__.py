"""Writing outputs: the renderers of each RDF format, atomic files, the dataset description."""
