"""Training data: N samples of a centred Gaussian target N(0, Sigma) in d dimensions, and their empirical moments.

The target's spectrum is isotropic (Sigma = I), a power law lambda_k = C k^-a (k = 1..d) or given
(any positive semi-definite Sigma). Isotropic and power-law spectra are normalised to tr Sigma = d
(mean eigenvalue 1, so every spectrum has the same total variance) and are diagonal in the standard
basis, which loses nothing: DDPM with linear denoisers is rotation equivariant. The target mean is 0
without loss of generality: the model is trained on data centred by their empirical mean mu_0 and
samples are shifted back by mu_0, which makes the whole pipeline translation equivariant.

Empirical moments (Merger & Goldt, arXiv 2505.24769): mu_0 = (1/N) sum_mu x_mu and
Sigma_0 = (1/N) sum_mu (x_mu - mu_0)(x_mu - mu_0)^T (normalised by N, the maximum-likelihood estimate).
A draw is a fixed function of its integer seed: X = Z Sigma^{1/2} with Z from NumPy's PCG64 seeded
by (seed, stream), so different spectra share their standard normal Z (common random numbers).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPECTRA = ("isotropic", "power_law", "given")
TRAIN, TEST, REFERENCE = 0, 1, 2  # PCG64 streams: training set, test points, reference target samples


def power_law(d: int, exponent: float) -> np.ndarray:
    """lambda_k = C k^-exponent, k = 1..d, with C such that sum_k lambda_k = d.

    **Arguments:** `d` (>= 1); `exponent` (>= 0).

    **Returns:** lambda, an array (d,), descending."""
    lam = np.arange(1, d + 1, dtype=float) ** -float(exponent)
    return lam * d / lam.sum()


@dataclass(frozen=True)
class Target:
    """The target N(0, Sigma) as Sigma = U diag(lam) U^T, lam descending; U None stands for the identity.

    **Arguments:** `lam` (d,) descending; `U` (d, d) orthogonal, or None."""

    lam: np.ndarray
    U: np.ndarray | None = None

    @property
    def d(self) -> int:
        return len(self.lam)

    @property
    def covariance(self) -> np.ndarray:
        return np.diag(self.lam) if self.U is None else (self.U * self.lam) @ self.U.T

    @property
    def precision(self) -> np.ndarray:
        """Sigma^-1 (positive-definite Sigma only)."""
        return np.diag(1 / self.lam) if self.U is None else (self.U / self.lam) @ self.U.T

    def sample(self, n: int, seed: int, stream: int) -> np.ndarray:
        """n i.i.d. target samples (n x d, float64) from the PCG64 stream (seed, stream)."""
        Z = np.random.default_rng([seed, stream]).standard_normal((n, self.d))
        X = Z * np.sqrt(self.lam)
        return X if self.U is None else X @ self.U.T

    def quadratic(self, V: np.ndarray, power: int) -> np.ndarray:
        """diag(V^T Sigma^power V) for the columns of V (power 1 or -1; -1 is inf along a null direction)."""
        P = V if self.U is None else self.U.T @ V
        with np.errstate(divide="ignore"):
            scale = self.lam.astype(float) ** power
        return np.einsum("ik,i->k", P ** 2, scale)

    def mahalanobis(self, x: np.ndarray) -> float:
        """x^T Sigma^-1 x (inf when x has a component along a null direction of Sigma)."""
        y = x if self.U is None else self.U.T @ x
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(y == 0, 0.0, y ** 2 / self.lam)
        return float(terms.sum())

    @property
    def logdet(self) -> float:
        with np.errstate(divide="ignore"):
            return float(np.sum(np.log(self.lam)))


def target(spectrum: str, d: int, exponent: float = 1.0, covariance=None) -> Target:
    """The target of a spectrum name ('given': the eigendecomposition of `covariance`).

    **Arguments:** `spectrum`: "isotropic", "power_law" or "given"; `d` (>= 1); `exponent` (>= 0, for
    "power_law"); `covariance` (d, d, for "given").

    **Returns:** a `Target`."""
    if spectrum == "isotropic":
        return Target(np.ones(d))
    if spectrum == "power_law":
        return Target(power_law(d, exponent))
    lam, U = np.linalg.eigh(np.asarray(covariance, dtype=float))
    return Target(np.clip(lam[::-1], 0.0, None), U[:, ::-1])


@dataclass(frozen=True)
class Moments:
    """Empirical moments of a training set X (N x d): mu0, and Sigma_0 = V diag(lam_hat) V^T, lam_hat descending.

    rank: the number of lam_hat above 1e-10 lam_hat_max (N - 1 for N <= d, generically d otherwise);
    the columns of V beyond it span the directions absent from the training data, where lam_hat is set
    to its exact value 0 (instead of rounding noise).

    **Arguments:** `X` (N, d); `mu0` (d,); `lam_hat` (d,); `V` (d, d); `rank` (built by `moments` or
    `from_moments`)."""

    X: np.ndarray
    mu0: np.ndarray
    lam_hat: np.ndarray
    V: np.ndarray
    rank: int


def moments(X: np.ndarray) -> Moments:
    """The empirical moments of a training set.

    **Arguments:** `X` (N, d).

    **Returns:** its `Moments`."""
    X = np.asarray(X, dtype=float)
    N, d = X.shape
    mu0 = X.mean(0)
    Y = X - mu0
    lam, V = np.linalg.eigh(Y.T @ Y / N)
    lam, V = np.clip(lam[::-1], 0.0, None), V[:, ::-1]
    rank = int(np.sum(lam > 1e-10 * max(lam[0], 1e-300)))
    lam[rank:] = 0.0  # rounding noise of exact zeros
    return Moments(X, mu0, lam, V, rank)


def from_moments(mean: np.ndarray, covariance: np.ndarray, N: int) -> Moments:
    """Given empirical moments (mu_0, Sigma_0) and a training set of N points that has exactly them.

    The points x_mu = mu_0 + sqrt(N) sum_{k <= r} Q_mu,k sqrt(lam_hat_k) v_k, with Q (N x r) orthonormal
    columns orthogonal to (1, ..., 1) (a fixed Householder basis), have mean mu_0 and covariance
    Sigma_0 = V diag(lam_hat) V^T; they exist when r = rank Sigma_0 <= N - 1. The theory depends on the
    training set only through (mu_0, Sigma_0); the simulation trains on these points.

    **Arguments:** `mean` (d,); `covariance` (d, d), symmetric positive semi-definite of rank <= N - 1; `N`:
    the number of points.

    **Returns:** the `Moments` of those points; ValueError where the rank exceeds N - 1."""
    mean, covariance = np.asarray(mean, dtype=float), np.asarray(covariance, dtype=float)
    lam, V = np.linalg.eigh(covariance)
    lam, V = np.clip(lam[::-1], 0.0, None), V[:, ::-1]
    rank = int(np.sum(lam > 1e-10 * max(lam[0], 1e-300)))
    lam[rank:] = 0.0
    if rank > N - 1:
        raise ValueError(f"training_covariance must have rank <= N - 1 = {N - 1} (the covariance of N points); "
                         f"got rank {rank}")
    Q = np.linalg.qr(np.column_stack([np.ones(N), np.eye(N)[:, :max(rank, 1)]]))[0][:, 1:rank + 1]
    X = mean + np.sqrt(N) * (Q * np.sqrt(lam[:rank])) @ V[:, :rank].T
    return Moments(X, mean, lam, V, rank)


def training_moments(tgt: Target, N: int, seed: int) -> Moments:
    """The training set of `seed` (N samples, stream TRAIN) and its empirical moments."""
    return moments(tgt.sample(N, seed, TRAIN))
