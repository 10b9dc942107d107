"""Data: image data sets in one canonical format, covariance spectra (full and stationary), user inputs.

Imports only :mod:`diffsched.infra`."""
