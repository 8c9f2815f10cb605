"""The export run: ties read -> map -> write (and validation inside the workers) together.

`export` (entry points `export`, `build`), `run` (one pass and its report rows), `outcome` (the
types the stages hand each other), `workers` (per-file work, process pool), `signals` (stopping
cleanly), `report` (`report.json`), `commit` (lock, all-or-nothing outputs), and `incremental/`
(manifest, reuse of unchanged files, change record, block writer).
"""
