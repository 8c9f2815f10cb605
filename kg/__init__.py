"""kg: export Medigy curations (Markdown + YAML front matter) as a linked-data knowledge graph."""

from __future__ import annotations

__version__ = "0.1.0"
