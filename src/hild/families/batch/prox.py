"""Convex losses l(y, z) and their proximal operators prox_{V l(y, .)}(omega) = argmin_z l(y, z) + (z - omega)^2 / (2V),
with the derivative d prox / d omega, as the replica fixed points of full-batch learning need them
(arXiv 2006.06560, 2102.08127).

The prox solves the monotone optimality condition g(z) = z - omega + V l'(y, z) = 0. For a smooth convex loss it
is bracketed first: g(omega) = V l'(omega) and g(omega - V l'(omega)) has the opposite sign (l' is increasing),
so bisection on that interval comes before Newton's steps, kept inside the bracket (plain Newton from omega
overshoots at large V, near separability). Then d prox / d omega = 1 / (1 + V l''(y, z)) by implicit
differentiation of g. Square and hinge have closed forms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hild.core import lazy

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

__all__ = ["Hinge", "Logistic", "Loss", "Smooth", "Square", "loss"]

BISECTIONS = 60
"""At most this many bisection steps (the bracket, of width V |l'(omega)|, shrinks by 2^-60); bisection stops once
the bracket is narrower than WIDTH (1 + |z|), and NEWTON steps, kept inside the bracket, polish it."""
WIDTH = 1e-3
NEWTON = 6


class Loss:
    """A convex loss: `value(y, z)`, and `prox(y, omega, V) -> (z, dz)` (the proximal point and its derivative
    in omega), elementwise and vmappable. `name` names it in results.

    **Arguments:** of `prox`, `y` (the labels), `omega` (the fields), `V` (> 0), broadcast to one shape.

    **Returns:** of `prox`, (z, dz), each of the broadcast shape."""

    name: str = ""

    def value(self, y, z):
        raise NotImplementedError

    def prox(self, y, omega, V):
        raise NotImplementedError

    def kinks(self, y, V):
        """Where in omega the prox (or the loss) is not smooth for label y at V: an array (k,), or None."""
        return None


@dataclass(frozen=True)
class Square(Loss):
    """l = (y - z)^2 / 2: prox = (omega + V y) / (1 + V), d prox = 1 / (1 + V).

    **Arguments:** none (`name` = "square"). **Returns:** of `prox`, (z, dz) as in `Loss`."""

    name: str = "square"

    def value(self, y, z):
        return 0.5 * (y - z) ** 2

    def prox(self, y, omega, V):
        return (omega + V * y) / (1 + V), jnp.broadcast_to(1 / (1 + V), jnp.shape(omega + y))


@dataclass(frozen=True)
class Hinge(Loss):
    """l = max(0, 1 - y z), y = +-1: prox = omega where y omega >= 1, omega + V y where y omega <= 1 - V, y between
    (d prox = 1, 1, 0).

    **Arguments:** none (`name` = "hinge"). **Returns:** of `prox`, (z, dz) as in `Loss`."""

    name: str = "hinge"

    def value(self, y, z):
        return jnp.maximum(0.0, 1 - y * z)

    def kinks(self, y, V):
        """y omega = 1 and y omega = 1 - V (y = +-1): omega = y and y (1 - V)."""
        return jnp.stack([jnp.asarray(y) + 0 * V, y * (1 - V)])

    def prox(self, y, omega, V):
        t = y * omega
        z = jnp.where(t >= 1, omega, jnp.where(t <= 1 - V, omega + V * y, y))
        dz = jnp.where((t >= 1) | (t <= 1 - V), 1.0, 0.0)
        return z, dz


@dataclass(frozen=True)
class Smooth(Loss):
    """Any twice-differentiable convex loss given as a JAX function `fn(y, z)` (scalars): the bracketed prox of
    the module docstring, derivatives by `jax.grad`.

    **Arguments:** `fn(y, z)`: the loss, convex in z; `name`: its name in results (default "custom").

    **Returns:** of `prox`, (z, dz) as in `Loss`, the optimality condition solved to rounding."""

    fn: Callable = None
    name: str = "custom"

    def value(self, y, z):
        return jnp.vectorize(self.fn)(y, z)

    def prox(self, y, omega, V):
        d1 = jax.grad(self.fn, argnums=1)
        d2 = jax.grad(d1, argnums=1)

        def one(y, omega, V):
            g = lambda z: z - omega + V * d1(y, z)
            other = omega - V * d1(y, omega)
            lo, hi = jnp.minimum(omega, other), jnp.maximum(omega, other)

            def wide(b):
                i, lo, hi = b
                return (hi - lo > WIDTH) & (i < BISECTIONS)

            def bisect(b):
                i, lo, hi = b
                mid = 0.5 * (lo + hi)
                up = g(mid) > 0
                return i + 1, jnp.where(up, lo, mid), jnp.where(up, mid, hi)

            _, lo, hi = jax.lax.while_loop(wide, bisect, (0, lo, hi))

            def newton(_, z):
                step = z - g(z) / (1 + V * d2(y, z))
                return jnp.clip(step, lo, hi)

            z = jax.lax.fori_loop(0, NEWTON, newton, 0.5 * (lo + hi))
            return z, 1 / (1 + V * d2(y, z))

        shape = jnp.broadcast_shapes(jnp.shape(y), jnp.shape(omega), jnp.shape(V))
        args = [jnp.broadcast_to(a, shape).ravel() for a in (y, omega, V)]
        z, dz = jax.vmap(one)(*args)
        return z.reshape(shape), dz.reshape(shape)


def _logistic(y, z):
    return jnp.logaddexp(0.0, -y * z)


def Logistic() -> Smooth:
    """l = log(1 + exp(-y z)), bracketed prox (`Smooth`).

    **Returns:** a `Smooth` loss named "logistic"."""
    return Smooth(_logistic, "logistic")


def loss(spec) -> Loss:
    """A `Loss` from its specification.

    **Arguments:** `spec`: "square", "logistic", "hinge", a `Loss`, or a JAX function fn(y, z) (convex in z,
    twice differentiable).

    **Returns:** the `Loss`; ValueError for anything else."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str):
        table = {"square": Square, "logistic": Logistic, "hinge": Hinge}
        if spec not in table:
            raise ValueError(f"loss must be one of square, logistic, hinge or a JAX function of (y, z); got {spec!r}")
        return table[spec]()
    if callable(spec):
        return Smooth(spec, getattr(spec, "__name__", "custom"))
    raise ValueError(f"loss must be one of square, logistic, hinge or a JAX function of (y, z); got {spec!r}")
