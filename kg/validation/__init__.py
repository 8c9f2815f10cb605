"""Validation of data against the shapes: results traced to source files and keys, and
the report formats (text, JSON, Turtle, JUnit)."""
