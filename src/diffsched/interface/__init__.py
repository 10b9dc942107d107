"""Interface: the command line (``python -m diffsched``), ``recommend`` and grid export for other samplers."""
