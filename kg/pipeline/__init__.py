"""The export run: workers, report, manifest and incremental reuse; ties read -> map -> write
(and validation inside the workers) together."""
