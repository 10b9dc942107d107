"""Studies: one module per study of the replication (Gaussian, data ranking, low-NFE sweep, noise-blind oracles,
noise-level probe, ideal gap), the claims decided from their tables, and the figures."""
