"""Incremental export: the manifest of the last export, reuse of unchanged files, the change record.

`kg export` writes `.kg-manifest.json` into the output folder with its other outputs (staged
and renamed with them, before `report.json`). It records, for every input file, the sha256 of
its bytes, its report row, its graph IRI and a digest of that graph's triples, and where the
file's block lies (byte offset and length) in each output file; plus what the outputs depend on
(kg version, a digest of kg's code, the settings) and the size and modification time of each output
file it describes.

The manifest also records each file's stamp (size, mtime, ctime, inode) as it was read. The
next export compares every source file's stamp with the recorded one and reads and hashes only
the files whose stamp differs (git's index works the same way): any write to a file changes its
mtime and ctime, and ctime cannot be set back by hand. A stamp is recorded only when the file
was last changed at least `TRUST_MARGIN_NS` before the export began, so a file written in the
same clock tick as it was read (after the read) is never trusted on its stamp: it is hashed.

When the manifest is usable (same fingerprint, output files untouched since), a file whose path
and stamp or hash are unchanged is not parsed again: its blocks are copied from the previous
output files and its report row and shared triples come from the manifest. Only added and
changed files are processed; removed files simply do not appear. The outputs are byte-identical
to a full export, because a file's blocks depend only on its bytes, its relative path and the
settings, and the shared nodes and the report are rebuilt from all files every time.

The change record (`changes` in the manifest) lists the graph IRIs added, changed and removed
since the previous export, for `kg load` to send only those; see docs/export.md, "Guarantees".

The package, one module a part: `manifest` (the file, reading it, `Manifest` for consumers),
`schema` (its format and structural check), `digests` (fingerprint, graph and export ids),
`previous` (the last export and which files are unchanged), `reuse` (runs of reused files),
`recorder` (the new manifest's rows, then the manifest), `columns` (its spilled columns),
`blocks` (the block writer). Here: the names other parts of kg use.
"""

from kg.pipeline.incremental.manifest import MANIFEST_NAME, Manifest, ManifestError, read_manifest

__all__ = ["MANIFEST_NAME", "Manifest", "ManifestError", "read_manifest"]
