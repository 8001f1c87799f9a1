"""The batch family's pieces: the proximal operators (optimality, derivative, closed forms) and the fixed-point
solver's convergence status."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hild.families.batch import solver
from hild.families.batch.prox import Hinge, Square, loss


def _grid():
    y = jnp.array([1.0, -1.0, 1.0, -1.0, 1.0])
    omega = jnp.array([0.3, 2.0, -5.0, 0.0, 40.0])
    V = jnp.array([1e4, 0.1, 3.0, 1e-3, 50.0])
    return y, omega, V


def test_logistic_prox_solves_its_optimality_condition_at_large_V():
    with jax.enable_x64(True):
        y, omega, V = _grid()
        z, dz = loss("logistic").prox(y, omega, V)
        d1 = jax.vmap(jax.grad(lambda y, z: jnp.logaddexp(0.0, -y * z), argnums=1))
        np.testing.assert_allclose(z - omega + V * d1(y, z), 0.0, atol=1e-9)
        # d prox / d omega against central differences
        h = 1e-6
        zp, _ = loss("logistic").prox(y, omega + h, V)
        zm, _ = loss("logistic").prox(y, omega - h, V)
        np.testing.assert_allclose(dz, (zp - zm) / (2 * h), rtol=1e-5, atol=1e-8)


def test_closed_forms_match_the_bracketed_prox():
    with jax.enable_x64(True):
        y, omega, V = _grid()
        z, dz = Square().prox(y, omega, V)
        zs, dzs = loss(lambda y, z: 0.5 * (y - z) ** 2).prox(y, omega, V)
        np.testing.assert_allclose(z, zs, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dz, dzs, rtol=1e-9)
        # hinge: the minimiser of l(z) + (z - omega)^2 / (2V) by brute force on a fine grid
        zh, _ = Hinge().prox(y, omega, V)
        for i in range(5):
            grid = np.linspace(-60, 60, 1_200_001)
            f = np.maximum(0, 1 - float(y[i]) * grid) + (grid - float(omega[i])) ** 2 / (2 * float(V[i]))
            assert abs(grid[np.argmin(f)] - float(zh[i])) < 2e-4


def test_loss_rejects_unknown_names():
    with pytest.raises(ValueError, match="loss must be one of"):
        loss("cauchy")


def test_solver_converges_and_reports_its_status():
    with jax.enable_x64(True):
        G = lambda x, p: jnp.cos(p * x)
        starts = jnp.array([[0.1], [1.0]])
        sol = solver.solve(G, starts, 1.0)
        assert bool(sol.converged) and abs(float(sol.x[0]) - 0.7390851332151607) < 1e-8
        # no fixed point: x -> x + 1 is reported unconverged after every start
        bad = solver.solve(lambda x, p: x + p, starts, 1.0, solver.Settings(max_iter=50))
        assert not bool(bad.converged) and int(bad.iterations) == 100
        # continuation along a path of parameters, vmapped over a second axis
        path = jnp.array([[0.5, 1.0, 1.5], [0.6, 1.1, 1.6]])
        sols = jax.vmap(lambda p: solver.continuation(G, starts, p))(path)
        assert sols.converged.all()
        np.testing.assert_allclose(sols.x[..., 0], np.cos(np.asarray(path) * np.asarray(sols.x[..., 0])), atol=1e-8)
