"""Stationary (Fourier) approximation of a covariance spectrum, for images too large for a full covariance.

Images y_n (H x W x C, flattened in HWC order, n = 1..N) minus their per-pixel mean m have the unbiased sample
covariance S = sum_n y_n y_n^T / (N - 1) (as :func:`diffsched.data.spectrum.moments`). Let U = F (x) I_C be the
unitary 2-D DFT over the H x W pixel grid applied to each channel, F[f, p] = exp(-2 pi i f.p) / sqrt(HW) with
f.p = f_h p_h / H + f_w p_w / W, and Y_n(f) = sum_p y_n(p) exp(-2 pi i f.p) the C-vector that ``numpy.fft.fft2``
gives at frequency f. Then U S U^H
is block-structured by frequency, and its diagonal C x C blocks are the cross-power spectrum

    P(f) = sum_n Y_n(f) Y_n(f)^H / ((N - 1) H W).

If S is shift-invariant (block-circulant: the covariance of pixels p and q depends only on p - q modulo the
grid, as for the stationary model of natural images), U S U^H is block-diagonal, so the eigenvalues of S are
exactly those of the H W matrices P(f): d = H W C values, found from C x C problems, in memory linear in d.
Otherwise the approximation keeps those blocks and drops the couplings between frequencies (a pinching), so

- the trace is kept exactly: sum_f tr P(f) = tr(U S U^H) = tr S (Parseval), the total variance;
- the approximate eigenvalues are majorised by the true ones: the sum of the k largest is at most the true sum
  for every k, equal at k = d (Ky Fan's maximum principle: the top k eigenvectors of the blocks, each inside one
  block, give the same k-frame trace in U S U^H). The approximate spectrum is flatter.

The mean subtracted is the per-pixel mean, the one the full covariance and the spectrum file's ``mean`` use: P
is then the pinching of the same S, so the two properties above hold against the full method. Subtracting only
a per-channel mean (the constant mean of a stationary model) would count the mean image's own structure (a
centred face, a horizon) as variance at low frequencies.

Real images have Y(-f) = conj(Y(f)), so P(-f) = conj(P(f)) has the same eigenvalues: only the half-plane of
``numpy.fft.rfft2`` (W // 2 + 1 columns) is computed, and each column that stands for two frequencies (all but
column 0 and, for even W, column W / 2) gives its eigenvalues twice. Rows are streamed with the Chan et al.
merge of :func:`diffsched.data.spectrum.moments`, the scatter taken per frequency.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from diffsched.data import spectrum


def cross_power(height: int, width: int, channels: int):
    """Map centred rows (k x HWC) to sum_n Y_n(f) Y_n(f)^H on the rfft2 half-plane, an H x (W//2+1) x C x C array."""

    def second(rows: np.ndarray) -> np.ndarray:
        y = np.fft.rfft2(rows.reshape(-1, height, width, channels), axes=(1, 2))  # n, h, w', c
        y = y.transpose(1, 2, 3, 0)  # h, w', c, n
        return y @ y.conj().swapaxes(-1, -2)

    return second


def moments(blocks: Iterable[np.ndarray], height: int, width: int,
            channels: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-pixel mean, cross-power spectrum P (H x (W//2+1) x C x C) and count of a stream of float64 row blocks."""
    mean, power, n = spectrum.moments(blocks, cross_power(height, width, channels))
    return mean, power / (height * width), n


def eigenvalues(power: np.ndarray, width: int) -> np.ndarray:
    """All H W C eigenvalues of the Hermitian P(f) over the full frequency grid, in descending order."""
    twice = np.full(power.shape[1], 2)
    twice[0] = 1
    if width % 2 == 0:
        twice[-1] = 1
    values = np.repeat(np.linalg.eigvalsh(power), twice, axis=1)
    return np.sort(values.ravel())[::-1].copy()
