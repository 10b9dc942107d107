"""Metrics: FID, KID and precision/recall through torch-fidelity (Inception weights resolved offline), and the
paired bootstrap over shared start states."""
