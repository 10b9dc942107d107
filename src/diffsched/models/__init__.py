"""Models: preconditioning, exact oracle denoisers (conditioned and noise-blind), networks, training and trained
checkpoints, all behind the one ``D(x, sigma)`` interface."""
