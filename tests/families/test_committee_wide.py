"""Wide committee machines: the ODE right-hand side over distinct index tuples, and the symmetric manifold."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hild.core.gaussian import activation
from hild.families.online import Committee
from hild.families.online import ode
from hild.families.online.theory import expand_symmetric, symmetric_theory


def random_covariance(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n + 2))
    return A @ A.T / (n + 2) + 0.3 * np.eye(n)


def full_tensor_second(act, C, w, K):
    """The second moment as hild computed it before: I4 over the whole (K, K, K+M, K+M) index tensor."""
    i, f = np.arange(K), np.arange(C.shape[0])
    i4 = act.I4(C, i[:, None, None, None], i[None, :, None, None], f[None, None, :, None], f[None, None, None, :])
    return jnp.einsum("ikcd,c,d->ik", i4, w, w)


@pytest.mark.parametrize("name", ["erf", "relu", "linear"])
def test_second_moment_over_distinct_tuples_equals_the_full_tensor(name, monkeypatch):
    act, K, M = activation(name), 3, 2
    C = random_covariance(K + M, 1)
    w = np.random.default_rng(2).standard_normal(K + M)
    with jax.enable_x64(True):
        reference = np.asarray(jax.jit(lambda C, w: full_tensor_second(act, C, w, K))(C, w))
        one_block = np.asarray(jax.jit(lambda C, w: ode._second_moment(act, C, w, K))(C, w))
        monkeypatch.setattr(ode, "PAIR_BLOCK", 40)  # 6 pairs i <= k of 15 terms each: 3 blocks under lax.map
        blocks = np.asarray(jax.jit(lambda C, w: ode._second_moment(act, C, w, K))(C, w))
    # ReLU's I4 is exact only to its rounding floor of ~1e-10 where fields coincide (I4(i, k, i, d), see
    # gaussian.RELU_I4_NODES): I4(i, k, c, d) and I4(i, k, d, c), or one term in two compiled graphs, differ that much
    tol = (1e-9 if name == "relu" else 1e-12) * max(1.0, np.max(np.abs(reference)))
    assert np.max(np.abs(one_block - reference)) < tol
    assert np.max(np.abs(blocks - reference)) < tol


@pytest.mark.parametrize("p, M", [(1, 1), (1, 3), (2, 2), (3, 2)])
def test_index_patterns_count_every_index_tuple_once(p, M):
    n = p * M + M
    for fixed, n_free in [((), 1), ((), 2), ((0, 0), 2), ((0, ode.SLOTS), 2), ((0, ode.SLOTS * ode.SLOTS), 1)]:
        if any(f == ode.SLOTS and M < 2 for f in fixed):
            continue
        fields, weights = ode.index_patterns(p, M, fixed, n_free)
        assert np.sum(np.abs(weights)) == n ** n_free
        students = np.sum(fields < ode.SLOTS * ode.SLOTS, axis=1)
        assert np.all(np.sign(weights) == (-1.0) ** students)  # w = -1 for a student, +1 for a teacher


def manifold_point(p, M):
    values = {"Q": 0.8, "C1": 0.3 if p > 1 else 0.0, "C2": 0.1 if M > 1 else 0.0, "R": 0.5, "S": 0.05 if M > 1 else 0.0}
    return values, *expand_symmetric(values, p, M)


@pytest.mark.parametrize("name", ["erf", "relu"])
@pytest.mark.parametrize("p, M", [(1, 2), (2, 2), (2, 3)])
def test_symmetric_field_is_the_full_field_on_the_manifold(name, p, M):
    act, K = activation(name), p * M
    values, Q, R = manifold_point(p, M)
    params = {"lr": 0.7, "lr_v": 0.0, "noise": 0.3, "weight_decay": 0.01, "T": jnp.eye(M), "v_teacher": jnp.ones(M),
              "mask": jnp.ones(K)}
    with jax.enable_x64(True):
        full = jax.jit(lambda y: ode.vector_field(act, y, params))({"Q": Q, "R": R, "v": jnp.ones(K)})
        reduced = jax.jit(lambda s: ode.symmetric_field(act, p, M, s, params))(values)
        eg_full = ode.generalisation_error(act, Q, R, np.eye(M), np.ones(K), np.ones(M))
        eg_reduced = jax.jit(lambda s: ode.symmetric_error(act, p, M, s))(values)
    dQ, dR = expand_symmetric({k: float(v) for k, v in reduced.items()}, p, M)
    tol = 1e-10 if name == "relu" else 1e-12  # ReLU's I4: see test_second_moment_over_distinct_tuples...
    assert np.max(np.abs(dQ - np.asarray(full["Q"]))) < tol
    assert np.max(np.abs(dR - np.asarray(full["R"]))) < tol
    assert abs(float(eg_full) - float(eg_reduced)) < 1e-12


def off_manifold_spread(Q, R, p, M):
    """The largest difference between entries the manifold keeps equal."""
    K = p * M
    group = np.arange(K) // p
    classes = [(np.eye(K, dtype=bool), Q), (~np.eye(K, dtype=bool) & (group[:, None] == group[None, :]), Q),
               (group[:, None] != group[None, :], Q), (group[:, None] == np.arange(M)[None, :], R),
               (group[:, None] != np.arange(M)[None, :], R)]
    return max((np.ptp(X[..., mask], axis=-1).max() for mask, X in classes if mask.any()), default=0.0)


def check_reduced_against_full(p, M, name="erf"):
    scenario = Committee(K=p * M, M=M, lr=0.5, activation=name)
    values = {"Q": 0.2, "C1": 0.05 if p > 1 else 0.0, "C2": 0.01, "R": 0.1, "S": 0.02}
    Q, R = expand_symmetric(values, p, M)
    options = dict(t_max=300, n_points=31, init={"Q": Q, "R": R}, rtol=1e-11, atol=1e-13)
    full = scenario.theory(**options)
    reduced = scenario.theory(**options, reduced=True)
    assert off_manifold_spread(full.Q.values, full.R.values, p, M) < 1e-9  # the full ODE stays on the manifold
    for var in ("Q", "R", "v", "eg"):
        assert float(np.max(np.abs(reduced[var] - full[var]))) < 1e-8, var
    assert float(reduced.sym_R[-1]) > 4 * float(reduced.sym_R[0])  # it has left the plateau: a real test
    return reduced


def test_reduced_ode_is_the_full_ode_for_k_equals_m():
    """Saad & Solla's K = M ansatz (Q, C, R, S); C1 does not exist at p = 1."""
    reduced = check_reduced_against_full(1, 2)
    assert np.all(np.isnan(reduced.sym_C1)) and set(reduced.Q.dims) == {"t", "k", "k2"}


@pytest.mark.slow
@pytest.mark.parametrize("p, M, name", [(2, 2, "erf"), (2, 3, "erf"), (2, 2, "relu")])
def test_reduced_ode_is_the_full_ode_with_groups(p, M, name):
    check_reduced_against_full(p, M, name)


def test_unspecialised_submanifold_stays_unspecialised_at_large_k():
    """R = S and C1 = C2 is invariant (the plateau); K = 1000 costs what K = 2 does."""
    scenario = Committee(K=1000, M=2, lr=0.5 / 1000)  # the output, and so the gradient, grows as K
    values = {"Q": 0.01, "C1": 1e-4, "C2": 1e-4, "R": 1e-3, "S": 1e-3}
    th = symmetric_theory(scenario, t_max=20, n_points=11, init=values, expand=False)
    assert "Q" not in th and not th.diverged and np.all(np.isfinite(th.eg))
    assert np.allclose(th.sym_R, th.sym_S, rtol=0, atol=1e-12) and np.allclose(th.sym_C1, th.sym_C2, rtol=0, atol=1e-12)


def test_symmetric_theory_refuses_what_is_off_the_manifold():
    with pytest.raises(ValueError, match="^lr_v"):
        Committee(K=2, M=2, lr=0.5, lr_v=0.1).theory(reduced=True)
    with pytest.raises(ValueError, match="^T"):
        Committee(K=2, M=2, lr=0.5, T=[[1, 0.1], [0.1, 1]]).theory(reduced=True)
    with pytest.raises(ValueError, match="^v:"):
        Committee(K=2, M=2, lr=0.5, v=[1, 2]).theory(reduced=True)
    with pytest.raises(ValueError, match="^v_teacher"):
        Committee(K=2, M=2, lr=0.5, v_teacher=[1, 2]).theory(reduced=True)
    with pytest.raises(ValueError, match="^K: .*K = 3, M = 2"):
        Committee(K=3, M=2, lr=0.5).theory(reduced=True)
    _, Q, R = manifold_point(2, 2)
    R[3, 1] += 1e-3
    with pytest.raises(ValueError, match="^init R: not on the symmetric manifold"):
        Committee(K=4, M=2, lr=0.5).theory(init={"Q": Q, "R": R}, reduced=True)
    with pytest.raises(ValueError, match="^init: numbers given for \\['P'\\]"):
        Committee(K=4, M=2, lr=0.5).theory(init={"Q": 0.1, "P": 0.0}, reduced=True)
    with pytest.raises(ValueError, match="^init Q: the squared norm"):
        Committee(K=4, M=2, lr=0.5).theory(init={"Q": 0.1, "C2": 0.2}, reduced=True)
    with pytest.raises(ValueError, match="^init T"):
        Committee(K=4, M=2, lr=0.5).theory(init={"Q": Q, "T": 2 * np.eye(2)}, reduced=True)
