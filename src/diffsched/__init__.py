"""diffsched: exact Gaussian KL scheduling and timestep-embedding studies for diffusion models."""

__version__ = "0.1.0"
