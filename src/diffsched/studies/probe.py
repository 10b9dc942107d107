"""How well the noise level sigma can be read from a noisy image x = y + sigma n alone.

Sun et al. 2025 ("Is Noise Conditioning Necessary for Denoising Generative Models?") show that in high dimension
the noise level is nearly determined by the input: Var[sigma | x] ~ sigma^2 / (2 d), d = 3 H W, so the relative
error of the best estimate is about 1 / sqrt(2 d) (0.0128 for 32x32 RGB). Two estimators are measured against
that prediction, as the RMS of log(sigma_hat / sigma) over held-out images at each sigma of a grid:

- the norm estimator, sigma_hat^2 = max(||x||^2 / d - m2, sigma_min^2), with m2 = E||y||^2 / d measured on
  training images. At large sigma ||x||^2 / d ~ sigma^2 chi2_d / d, whose log has standard deviation
  sqrt(2 / d), so log sigma_hat has 1 / sqrt(2 d): the prediction. At small sigma the spread of ||y||^2 / d
  over images swamps sigma^2.
- a learned probe: a tiny CNN that regresses log sigma from x, trained on training images with log sigma
  uniform over [sigma_min, sigma_max].
- the Bayes floor under the data's Gaussian model (optional, :func:`bayes_log_sigma`): sigma_hat =
  exp E[ln s | x] with x ~ N(mu, Sigma + s^2 I) and the learned probe's prior, ln s uniform over
  [sigma_min, sigma_max]: the best any estimator can do in RMS of log error when the data are that Gaussian.
  (Not :meth:`diffsched.models.denoisers.BlindGaussianDenoiser.sigma_posterior`: that conditions on the network's
  input u = c_in(sigma) x, whose scaling already carries sigma.)

Images are rows of the flattened HWC [-1, 1] space of :mod:`diffsched.data.spectrum`. Every random draw takes a
``torch.Generator``, so the numbers are a function of the seed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from diffsched.data import datasets, spectrum
from diffsched.models import denoisers

ESTIMATORS = ("norm", "learned")
BAYES = "bayes (Gaussian model)"


def _check_images(images) -> None:
    if len(images) == 0:
        raise ValueError("no images: the probe needs at least one image")


def _check_range(sigma_min: float, sigma_max: float) -> None:
    if not 0 < sigma_min < sigma_max:
        raise ValueError(f"need 0 < sigma_min < sigma_max, got sigma_min {sigma_min}, sigma_max {sigma_max}")


def _check_sigmas(sigmas) -> None:
    sigmas = torch.as_tensor(sigmas)
    if sigmas.numel() == 0 or not bool((sigmas > 0).all()):
        raise ValueError(f"noise levels must be positive (and at least one given), got {sigmas.tolist()}")


def hold_out(images, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) images: ``count`` evenly spaced ones held out, for data sets without a test split."""
    if not 0 < count < len(images):
        raise ValueError(f"cannot hold out {count} of {len(images)} images and train on the rest; "
                         f"choose 0 < count < {len(images)}")
    held = datasets.subset(len(images), count)
    keep = np.ones(len(images), dtype=bool)
    keep[held] = False
    return images[keep], images[held]


def high_dim_prediction(dimension: int) -> float:
    """1 / sqrt(2 d): the relative error of sigma given x in high dimension (Sun et al. 2025)."""
    return 1.0 / math.sqrt(2.0 * dimension)


def sigma_grid(sigma_min: float, sigma_max: float, points: int) -> np.ndarray:
    """``points`` noise levels, log-spaced from sigma_min to sigma_max."""
    _check_range(sigma_min, sigma_max)
    return np.geomspace(sigma_min, sigma_max, points)


def second_moment(images, chunk: int = 1024) -> float:
    """m2 = E||y||^2 / d of uint8 images scaled to [-1, 1], streamed in float64 blocks."""
    _check_images(images)
    total = sum(float(np.square(block).sum()) for block in spectrum.chunks(images, chunk))
    return total / images[0].size / len(images)


def add_noise(y: torch.Tensor, sigmas: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """x = y + sigma n, one sigma per row of y, n standard normal."""
    _check_sigmas(sigmas)
    return y + sigmas[:, None] * torch.randn(y.shape, generator=generator, dtype=y.dtype)


def norm_estimate(x: torch.Tensor, m2: float, sigma_min: float) -> torch.Tensor:
    """sigma_hat = sqrt(max(||x||^2 / d - m2, sigma_min^2)) per row of x (the floor keeps log defined)."""
    return (x.square().mean(dim=1) - m2).clamp(min=sigma_min**2).sqrt()


class Probe(nn.Module):
    """A tiny CNN from x (B, C, H, W) to log sigma (C = ``in_channels``, 3 RGB or 1 grey): bias-free convolutions
    and ReLUs; the log of the mean energy of every channel of every layer, the input included (global pooling);
    a one-hidden-layer head. Without biases the features scale with x, so log-energy pooling turns a change of
    scale into a shift that the head reads over the 4-5 decades of sigma; the input's energy is the norm
    statistic, the convolutions' the high frequencies that tell small noise from image content."""

    def __init__(self, generator: torch.Generator, channels: int = 16, hidden: int = 32,
                 log_sigma_mid: float = 0.0, in_channels: int = 3):
        super().__init__()
        self.convs = nn.ModuleList([
            nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1, bias=False),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1, bias=False),
        ])
        self.head = nn.Sequential(nn.Linear(in_channels + 3 * channels, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        for conv in self.convs:
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu", generator=generator)
        nn.init.kaiming_normal_(self.head[0].weight, nonlinearity="relu", generator=generator)
        nn.init.zeros_(self.head[0].bias)
        nn.init.zeros_(self.head[2].weight)
        nn.init.constant_(self.head[2].bias, log_sigma_mid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        energies = [x.square().mean(dim=(2, 3))]
        for i, conv in enumerate(self.convs):
            x = conv(torch.relu(x) if i else x)
            energies.append(x.square().mean(dim=(2, 3)))
        return self.head(torch.log(torch.cat(energies, dim=1) + 1e-20)).squeeze(1)  # + 1e-20: a channel ReLU zeroed


def _batch(images, index) -> torch.Tensor:
    """uint8 images at ``index`` as float32 rows in [-1, 1]."""
    return torch.from_numpy(spectrum.scale(images[np.asarray(index)])).float()


def train_probe(images, sigma_min: float, sigma_max: float, steps: int, batch: int, generator: torch.Generator,
                lr: float = 1e-2) -> Probe:
    """Fit a :class:`Probe` by Adam on squared error in log sigma; random images of ``images`` (uint8 N x H x W
    x C), log sigma uniform over [sigma_min, sigma_max], all draws from ``generator``."""
    _check_images(images)
    _check_range(sigma_min, sigma_max)
    if steps < 1 or batch < 1:
        raise ValueError(f"steps and batch must be >= 1, got steps {steps}, batch {batch}")
    low, high = math.log(sigma_min), math.log(sigma_max)
    net = Probe(generator, log_sigma_mid=(low + high) / 2, in_channels=images.shape[-1])
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - step / steps)
    resolution = images.shape[1]
    for _ in range(steps):
        y = _batch(images, torch.randint(len(images), (batch,), generator=generator))
        log_sigma = low + (high - low) * torch.rand(batch, generator=generator)
        x = add_noise(y, log_sigma.exp(), generator)
        loss = (net(denoisers.to_images(x, resolution)) - log_sigma).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return net.eval()


def bayes_log_sigma(model: denoisers.GaussianDenoiser, x: torch.Tensor, sigma_min: float,
                    sigma_max: float) -> torch.Tensor:
    """E[ln s | x] (B,) under x ~ N(mu, U diag(lambda + s^2) U^T), ln s uniform over [sigma_min, sigma_max]: a
    softmax over a uniform grid in ln s, spaced a quarter of 1 / sqrt(2 d), the narrowest posterior width."""
    _check_range(sigma_min, sigma_max)
    z2 = ((x.to(model.dtype) - model.mean) @ model.eigenvectors) ** 2
    low, high = math.log(sigma_min), math.log(sigma_max)
    log_s = torch.linspace(low, high, math.ceil((high - low) * 4 * math.sqrt(2 * model.dim)) + 1, dtype=model.dtype)
    var = model.eigenvalues + torch.exp(2 * log_s)[:, None]  # (J, d)
    log_p = -0.5 * (z2 @ (1 / var).T + var.log().sum(dim=1))
    return torch.softmax(log_p, dim=1) @ log_s


def evaluate(probe: Probe, images, m2: float, sigmas, sigma_min: float, generator: torch.Generator,
             chunk: int = 500, model: denoisers.GaussianDenoiser | None = None, model_images: int = 0,
             sigma_max: float | None = None) -> pd.DataFrame:
    """Per sigma and estimator (norm, learned): RMS and mean of log(sigma_hat / sigma) over ``images`` (held
    out, uint8), each noised once per sigma (the same noise for every estimator), and the prediction
    1 / sqrt(2 d). ``sigma_min`` is the norm estimator's floor. With a ``model``, also the Bayes estimator
    :data:`BAYES` (:func:`bayes_log_sigma`, prior over [sigma_min, sigma_max]) on the first ``model_images``."""
    _check_images(images)
    _check_sigmas(sigmas)
    resolution, dimension = images.shape[1], images[0].size
    rows = []
    for sigma in map(float, sigmas):
        errors = {name: [] for name in ESTIMATORS + ((BAYES,) if model is not None else ())}
        for start in range(0, len(images), chunk):
            y = _batch(images, np.arange(start, min(start + chunk, len(images))))
            x = add_noise(y, torch.full((len(y),), sigma), generator)
            with torch.no_grad():
                errors["learned"].append(probe(denoisers.to_images(x, resolution)) - math.log(sigma))
            errors["norm"].append(norm_estimate(x.double(), m2, sigma_min).log() - math.log(sigma))
            if model is not None and start < model_images:
                log_sigma = bayes_log_sigma(model, x[: model_images - start], sigma_min, sigma_max)
                errors[BAYES].append(log_sigma - math.log(sigma))
        for name, parts in errors.items():
            error = torch.cat(parts).double()
            rows.append({"sigma": sigma, "estimator": name, "rms_log_error": error.square().mean().sqrt().item(),
                         "mean_log_error": error.mean().item(), "high_dim_prediction": high_dim_prediction(dimension),
                         "dimension": dimension, "n_test": len(error)})
    return pd.DataFrame(rows)
