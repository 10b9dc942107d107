"""Infrastructure: atomic writes, artefact stores, tables, provenance, job resources and the SLURM guard.

The lowest layer: it imports nothing else of diffsched."""
