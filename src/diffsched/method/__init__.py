"""The method (arXiv 2601.13602): closed-form schedules, solvers with one signature, the exact Gaussian criteria,
their optimisation, the search baselines, and the registry of named strategies.

Imports only :mod:`diffsched.infra`."""
