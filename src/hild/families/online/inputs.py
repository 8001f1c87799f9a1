"""Input models of the local-field engine: Gaussian mixtures whose coordinates fall into blocks.

One input of dimension d is

    x = mu_c + sum_b sqrt(Delta[c, b]) P_b z,        z ~ N(0, I_d),   c ~ probs(t),

with blocks b of fractions rho_b (P_b keeps the block's rho_b d coordinates) and mixture components
c. F fixed vectors f_j (teachers and cluster-mean directions) have block Grams
gram[b] = f^b_j . f^b_l / d, and the means are mu_c = sum_j alpha[c, j] f_j / sqrt(d), so that
|mu_c| = O(1) and the fixed fields nu_j = f_j . x / sqrt(d) have means sum_l alpha[c, l] G_jl in
component c (G = sum_b gram[b]). This holds the isotropic Gaussian (one block, one component),
block-structured inputs with per-sample difficulty (curriculum learning, arXiv 2106.08068) and
Gaussian mixtures such as the XOR mixture (Refinetti et al., arXiv 2102.11742). The component
probabilities are piecewise constant in t: probs[j] holds between breaks[j - 1] and breaks[j].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hild.core import lazy

jnp = lazy.module("jax.numpy")


@dataclass(frozen=True)
class Inputs:
    """Gaussian-mixture inputs with block structure (see the module docstring).

    **Arguments:**
    - `fractions`: (B,) block fractions rho_b, positive, summing to 1.
    - `variances`: (C, B) the noise variance Delta[c, b] of block b in component c, >= 0.
    - `gram`: (B, F, F) the fixed vectors' Gram matrix in each block (positive semi-definite).
    - `means`: (C, F) alpha[c, j], the mean of component c along the fixed vectors (zeros: centred).
    - `probs`: (J + 1, C) the component probabilities in each time interval (rows sum to 1).
    - `breaks`: (J,) increasing times at which the probabilities change.
    """

    fractions: tuple
    variances: tuple
    gram: tuple
    means: tuple
    probs: tuple
    breaks: tuple = ()

    def __post_init__(self):
        rho, var = np.asarray(self.fractions, float), np.asarray(self.variances, float)
        gram, means = np.asarray(self.gram, float), np.asarray(self.means, float)
        probs, breaks = np.asarray(self.probs, float), np.asarray(self.breaks, float).reshape(-1)
        if rho.ndim != 1 or np.any(rho <= 0) or abs(rho.sum() - 1) > 1e-12:
            raise ValueError(f"fractions must be positive block fractions summing to 1; got {rho.tolist()}")
        B = rho.size
        if var.ndim != 2 or var.shape[1] != B or np.any(var < 0) or not np.all(np.isfinite(var)):
            raise ValueError(f"variances must be a (components, {B}) array of finite values >= 0; got {var.tolist()}")
        C = var.shape[0]
        if gram.ndim != 3 or gram.shape[0] != B or gram.shape[1] != gram.shape[2]:
            raise ValueError(f"gram must be a ({B}, F, F) array of block Grams; got shape {gram.shape}")
        F = gram.shape[1]
        if np.any(np.abs(gram - np.swapaxes(gram, 1, 2)) > 1e-12) or np.any(np.linalg.eigvalsh(gram) < -1e-10):
            raise ValueError("gram must hold symmetric positive semi-definite block Grams")
        if means.shape != (C, F) or not np.all(np.isfinite(means)):
            raise ValueError(f"means must be a finite ({C}, {F}) array; got shape {means.shape}")
        if np.any(np.diff(breaks) <= 0) or not np.all(np.isfinite(breaks)):
            raise ValueError(f"breaks must be increasing finite times; got {breaks.tolist()}")
        if probs.shape != (breaks.size + 1, C) or np.any(probs < 0) or np.any(np.abs(probs.sum(1) - 1) > 1e-12):
            raise ValueError(f"probs must be a ({breaks.size + 1}, {C}) array of probabilities summing to 1 per row; "
                             f"got {probs.tolist()}")
        for name, value in (("fractions", rho), ("variances", var), ("gram", gram), ("means", means),
                            ("probs", probs), ("breaks", breaks)):
            object.__setattr__(self, name, _frozen(value))

    @classmethod
    def isotropic(cls, T) -> "Inputs":
        """x ~ N(0, I_d), with M teachers of Gram T (M, M) as the fixed vectors."""
        T = np.atleast_2d(np.asarray(T, float))
        return cls(fractions=(1.0,), variances=((1.0,),), gram=(T,), means=np.zeros((1, T.shape[0])), probs=((1.0,),))

    @property
    def blocks(self) -> int:
        return len(self.fractions)

    @property
    def components(self) -> int:
        return len(self.variances)

    @property
    def fixed(self) -> int:
        return len(self.gram[0])

    @property
    def centred(self) -> bool:
        """Whether every component has mean zero (then E[phi] never enters the ODEs)."""
        return not np.any(np.asarray(self.means))

    def arrays(self) -> dict:
        """The arrays the engine's ODEs and simulation read, as float64 NumPy (a pytree under p["inputs"])."""
        return {name: np.asarray(getattr(self, name), float)
                for name in ("fractions", "variances", "gram", "means", "probs", "breaks")}


def _frozen(a: np.ndarray):
    """A nested tuple of floats (hashable, so the dataclass is), from an array."""
    return tuple(_frozen(x) for x in a) if a.ndim else float(a)


def probabilities(arrays: dict, t):
    """The component probabilities at time t (JAX): the row of probs for the interval holding t."""
    return jnp.asarray(arrays["probs"])[jnp.searchsorted(jnp.asarray(arrays["breaks"]), t, side="right")]
