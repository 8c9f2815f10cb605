"""kg's version: one place, imported by the package and by what records it (report, manifest)."""

__version__ = "0.1.0"
