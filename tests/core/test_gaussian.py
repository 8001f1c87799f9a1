"""Gaussian averages of activations: closed forms against Monte Carlo, ReLU I4 against
independent references, cubature, degenerate covariances, jit/vmap, bad input."""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erf as np_erf
from scipy.special import ndtr, owens_t, roots_legendre

from hild.core.gaussian import ACTIVATIONS, Activation, activation, gauss_hermite


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


# Fields as loadings on independent standard normals: 0, 1 students and 2, 3 teachers
# (a generic 4x4 covariance); 4 is a copy of 2 (a student equal to a teacher); 5 = -1;
# 6 is identically zero (a padded unit).
def _loadings() -> np.ndarray:
    rng = np.random.default_rng(1906_08632)
    F = np.zeros((7, 6))
    F[:4] = rng.standard_normal((4, 6)) / math.sqrt(6.0)
    F[4], F[5] = F[2], -F[1]
    return F


F = _loadings()
C = F @ F.T

TUPLES = np.array([
    (0, 1, 2, 3), (1, 0, 3, 2), (0, 2, 1, 3), (3, 2, 1, 0),            # distinct fields
    (0, 0, 0, 1), (0, 0, 1, 1), (0, 1, 0, 1), (1, 1, 1, 1), (2, 3, 1, 1), (0, 1, 2, 2),
    (0, 4, 2, 3), (4, 2, 4, 2), (4, 4, 2, 3), (2, 1, 4, 4), (0, 1, 2, 4),  # student = teacher
    (1, 5, 0, 2), (0, 1, 5, 1), (5, 0, 1, 3),                           # opposite fields
    (6, 0, 1, 2), (0, 6, 1, 2), (0, 1, 6, 2), (0, 1, 2, 6), (6, 6, 6, 6), (6, 6, 0, 1),  # zero variance
]).T
DISTINCT = np.arange(4)  # TUPLES rows with four distinct, generic fields

NUMPY_ACT = {
    "erf": (lambda x: np_erf(x / math.sqrt(2.0)), lambda x: math.sqrt(2.0 / math.pi) * np.exp(-0.5 * x * x)),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: np.heaviside(x, 0.5)),
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
}


def _monte_carlo(name, keys, n, seed, tuples=TUPLES, chunk=2 * 10**5):
    """Mean and standard error over n samples of the integrands ``keys`` on ``tuples``."""
    g, dg = NUMPY_ACT[name]
    a, b, c, d = tuples
    rng = np.random.default_rng(seed)
    total = {key: np.zeros(tuples.shape[1]) for key in keys}
    total_sq = {key: np.zeros(tuples.shape[1]) for key in keys}
    for _ in range(n // chunk):
        z = F @ rng.standard_normal((F.shape[1], chunk))
        G, D = g(z), dg(z)
        integrands = {"I2": lambda: G[a] * G[b], "J2": lambda: D[a] * D[b],
                      "I3": lambda: D[a] * z[b] * G[c], "I4": lambda: D[a] * D[b] * G[c] * G[d]}
        for key in keys:
            vals = integrands[key]()
            total[key] += vals.sum(axis=1)
            total_sq[key] += (vals * vals).sum(axis=1)
    mean = {key: total[key] / n for key in keys}
    se = {key: np.sqrt(np.maximum(total_sq[key] / n - mean[key] ** 2, 0.0) / n) for key in keys}
    return mean, se


@functools.cache
def _averages_fn(act, tuples, x64):
    a, b, c, d = np.array(tuples).reshape(-1, 4).T
    return jax.jit(lambda Cm: {"I2": act.I2(Cm, a, b), "J2": act.J2(Cm, a, b), "I3": act.I3(Cm, a, b, c),
                               "I4": act.I4(Cm, a, b, c, d)})


def _averages(act, Cm, tuples):
    """I2, J2, I3, I4 on the index tuples (rows a, b, c, d), in one jitted call."""
    key = tuple(map(tuple, np.asarray(tuples).reshape(-1, 4).tolist()))
    return _averages_fn(act, key, jnp.result_type(float) == jnp.float64)(jnp.asarray(Cm))


def _assert_within_5se(theory, mean, se, label, tuples=TUPLES):
    # 1e-10 only absorbs rounding where the integrand is constant (se = 0), e.g. identically 0.
    theory = np.asarray(theory)
    bad = ~(np.abs(theory - mean) <= 5.0 * se + 1e-10)  # NaN is bad
    assert not bad.any(), (f"{label}: tuples {tuples.T[bad].tolist()} theory {theory[bad]} "
                           f"MC {mean[bad]} +- {se[bad]}")


@pytest.mark.parametrize("name", ["erf", "relu", "linear"])
def test_closed_forms_match_monte_carlo(name):
    keys = ["I2", "J2", "I3"] if name == "relu" else ["I2", "J2", "I3", "I4"]  # relu I4: below
    theory = _averages(activation(name), C, TUPLES.T)
    mean, se = _monte_carlo(name, keys, 10**6, seed=0)
    for key in keys:
        _assert_within_5se(theory[key], mean[key], se[key], f"{name} {key}")


def test_relu_i4_matches_1e7_monte_carlo():
    # TUPLES less those equal to relu I2 or to 0 exactly (tested in test_relu_i4_exact_reductions
    # and test_zero_variance_field).
    keep = [0, 1, 2, 3, 5, 8, 9, 10, 12, 13, 14, 18, 19]
    mean, se = _monte_carlo("relu", ["I4"], 10**7, seed=1, tuples=TUPLES[:, keep])
    theory = np.asarray(_averages(activation("relu"), C, TUPLES.T)["I4"])[keep]
    _assert_within_5se(theory, mean["I4"], se["I4"], "relu I4", TUPLES[:, keep])


# Independent reference: condition on (z_c, z_d); P(z_a > 0, z_b > 0 | z_c, z_d) is a
# bivariate normal CDF (Owen's T); the outer integral runs over the quadrant z_c, z_d > 0,
# a wedge in whitened polar coordinates, by tensor Gauss-Legendre in angle and radius.
def _phi2(h, k, rho):
    """P(X < h, Y < k) for standard normals with correlation rho; rho = 1 means X = Y."""
    if rho == 1.0:
        return ndtr(np.minimum(h, k))
    sq = math.sqrt(1.0 - rho * rho)
    return (0.5 * (ndtr(h) + ndtr(k)) - owens_t(h, (k - rho * h) / (h * sq))
            - owens_t(k, (h - rho * k) / (k * sq)) - np.where(h * k > 0, 0.0, 0.5))


def _relu_i4_reference(C4, a_equals_b=False, n=400, r_max=13.0):
    A, B, D = C4[:2, :2], C4[:2, 2:], C4[2:, 2:]
    L = np.linalg.cholesky(D)
    K = np.linalg.solve(D, B.T).T
    S = A - K @ B.T
    sa, sb = math.sqrt(S[0, 0]), math.sqrt(S[1, 1])
    rho = 1.0 if a_equals_b else S[0, 1] / (sa * sb)
    x, w = roots_legendre(n)
    lo = math.atan2(-L[1, 0], L[1, 1])  # z_d = 0 edge of the wedge; z_c = 0 is at pi/2
    theta, w_theta = lo + 0.5 * (x + 1) * (0.5 * math.pi - lo), 0.5 * w * (0.5 * math.pi - lo)
    r, w_r = 0.5 * (x + 1) * r_max, 0.5 * w * r_max
    theta, r = theta[:, None], r[None, :]
    zc = L[0, 0] * r * np.cos(theta)
    zd = L[1, 0] * r * np.cos(theta) + L[1, 1] * r * np.sin(theta)
    inner = _phi2((K[0, 0] * zc + K[0, 1] * zd) / sa, (K[1, 0] * zc + K[1, 1] * zd) / sb, rho)
    weight = w_theta[:, None] * w_r[None, :] * r * np.exp(-0.5 * r * r) / (2.0 * math.pi)
    return float(np.sum(weight * zc * zd * inner))


def _near(rng, i, j, delta, sign):
    """Covariance of 4 fields where field j = sign * field i up to correlation 1 - ~delta/2."""
    G = np.hstack([rng.standard_normal((4, 5)), np.zeros((4, 1))])
    G[j] = sign * G[i]
    G[j, -1] = math.sqrt(delta) * np.linalg.norm(G[i])
    return G @ G.T


def test_relu_i4_matches_quadrature_reference():
    rng = np.random.default_rng(7)
    relu = activation("relu")
    generic = F[:4] @ F[:4].T
    cases = [(generic, False), (generic[[1, 0, 3, 2]][:, [1, 0, 3, 2]], False),
             (generic[[0, 0, 2, 3]][:, [0, 0, 2, 3]], True)]
    for (i, j) in [(0, 1), (2, 3), (0, 2), (1, 3)]:
        for delta in (1e-3, 1e-6):
            for sign in (1, -1):
                cases.append((_near(rng, i, j, delta, sign), False))
    covs = np.stack([C4 for C4, _ in cases])
    got = np.asarray(jax.jit(jax.vmap(lambda Cm: relu.I4(Cm, 0, 1, 2, 3)))(jnp.asarray(covs)))
    ref = np.array([_relu_i4_reference(C4, a_equals_b) for C4, a_equals_b in cases])
    scale = np.sqrt(covs[:, 2, 2] * covs[:, 3, 3])
    bad = np.abs(got - ref) > 1e-8 * np.abs(ref) + 1e-10 * scale
    assert not bad.any(), (np.flatnonzero(bad), got[bad], ref[bad])


def test_relu_i4_exact_reductions():
    out = {key: np.asarray(val) for key, val in _averages(activation("relu"), C, TUPLES.T).items()}
    row = {tuple(t): k for k, t in enumerate(TUPLES.T.tolist())}
    # H(z_a) z_a+ = z_a+: I4(a, a, a, b) = I4(a, b, a, b) = I2(a, b), I4(a, a, a, a) = C_aa / 2.
    i2_01 = out["I2"][row[0, 1, 2, 3]]
    np.testing.assert_allclose(out["I4"][[row[0, 0, 0, 1], row[0, 1, 0, 1]]], i2_01, rtol=1e-12)
    np.testing.assert_allclose(out["I4"][row[4, 2, 4, 2]], out["I2"][row[4, 2, 4, 2]], rtol=1e-12)
    np.testing.assert_allclose(out["I4"][row[1, 1, 1, 1]], C[1, 1] / 2, rtol=1e-12)
    # Opposite fields (z_5 = -z_1): z_1+ z_5+ = 0 and H(z_1) H(z_5) = 0, up to rounding.
    opposite = [row[1, 5, 0, 2], row[0, 1, 5, 1], row[5, 0, 1, 3]]
    np.testing.assert_allclose(out["I4"][opposite], 0.0, atol=1e-10)


def test_generic_erf_reproduces_closed_forms():
    user_erf = activation(lambda x: jax.scipy.special.erf(x / jnp.sqrt(2.0)))
    got, want = _averages(user_erf, C, TUPLES.T), _averages(activation("erf"), C, TUPLES.T)
    tol = np.full(TUPLES.shape[1], 1e-5)  # CUBATURE_NODES: repeated or dependent fields
    tol[DISTINCT] = 1e-7  # distinct fields
    for key in got:
        assert np.all(np.abs(np.asarray(got[key]) - np.asarray(want[key])) <= tol), key


def test_generic_relu_roughly_reproduces_closed_forms():
    # Gauss-Hermite converges slowly across the kink of relu and the jump of its derivative
    # (worse still when a kink runs obliquely through a degenerate grid): distinct fields only.
    user_relu = activation(lambda x: jnp.maximum(x, 0.0))
    got, want = _averages(user_relu, C, TUPLES.T), _averages(activation("relu"), C, TUPLES.T)
    for key, tol in [("I2", 0.02), ("J2", 0.1), ("I3", 0.02), ("I4", 0.02)]:
        np.testing.assert_allclose(np.asarray(got[key])[DISTINCT], np.asarray(want[key])[DISTINCT],
                                   rtol=0, atol=tol, err_msg=key)


@pytest.mark.parametrize("spec, dg0", [("erf", math.sqrt(2 / math.pi)), ("relu", 0.5), ("linear", 1.0),
                                       (jnp.sin, 1.0)])
def test_zero_variance_field(spec, dg0):
    out = {key: np.asarray(val) for key, val in _averages(activation(spec), C, TUPLES.T).items()}
    for key, val in out.items():
        assert np.isfinite(val).all(), key
    a, b, c, d = TUPLES
    # Field 6 is identically zero and g(0) = 0 for all four activations (z_b = 0 in I3).
    assert np.all(np.abs(out["I2"][(a == 6) | (b == 6)]) < 1e-12)
    assert np.all(np.abs(out["I3"][(b == 6) | (c == 6)]) < 1e-12)
    assert np.all(np.abs(out["I4"][(c == 6) | (d == 6)]) < 1e-12)
    # g'(z_6) = g'(0), a constant (relu: H(0) = 1/2). Rows (6, 6, 0, 1) and (0, 1, 2, 3).
    assert out["J2"][-1] == pytest.approx(dg0**2, rel=1e-12)
    assert out["I4"][-1] == pytest.approx(dg0**2 * out["I2"][0], rel=1e-10)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_float32_without_x64(name):
    want = _averages(activation(name), C, TUPLES.T)
    with jax.enable_x64(False):
        got = _averages(activation(name), C, TUPLES.T)
    for key in got:
        assert got[key].dtype == jnp.float32 and np.isfinite(got[key]).all(), key
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-4, err_msg=key)


@pytest.mark.parametrize("spec", ["erf", "relu", "linear", jnp.sin])
def test_jit_and_vmap_over_covariances(spec):
    act = activation(spec)
    i, f = np.arange(2), np.arange(3)

    def averages(Cm):  # the calls of the committee ODEs
        return (act.I2(Cm, i[:, None], f[None, :]), act.J2(Cm, i[:, None], i[None, :]),
                act.I3(Cm, i[:, None, None], f[None, :, None], f[None, None, :]),
                act.I4(Cm, i[:, None, None, None], i[None, :, None, None],
                       f[None, None, :, None], f[None, None, None, :]))

    out = jax.jit(jax.vmap(averages))(jnp.asarray(np.stack([0.5 * C, C])))
    assert [o.shape for o in out] == [(2, 2, 3), (2, 2, 2), (2, 2, 3, 3), (2, 2, 2, 3, 3)]
    single = _averages(act, C, TUPLES.T)  # TUPLES[0] = (0, 1, 2, 3), TUPLES[9] = (0, 1, 2, 2)
    np.testing.assert_allclose([out[0][1, 0, 1], out[1][1, 0, 1], out[2][1, 0, 1, 2], out[3][1, 0, 1, 2, 2]],
                               [single["I2"][0], single["J2"][0], single["I3"][0], single["I4"][9]],
                               rtol=1e-12, atol=1e-10)  # atol: ReLU I4 rounding floor, c == d


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_index_broadcasting(name):
    act = activation(name)
    Cj = jnp.asarray(C)
    a, b, c = np.array([0, 4])[:, None, None], np.array([1, 2, 6])[None, :, None], np.arange(4)[None, None, :]

    def shape(method, *idx):
        return jax.eval_shape(lambda Cm: method(Cm, *idx), Cj).shape

    assert shape(act.I2, a, b) == (2, 3, 1)
    assert shape(act.J2, a, c) == (2, 1, 4)
    assert shape(act.I3, a, b, c) == (2, 3, 4)
    assert shape(act.I4, a, b, c, 3) == (2, 3, 4)
    assert shape(act.I4, 0, 1, 2, 3) == ()
    full = jax.jit(lambda Cm: act.I3(Cm, a, b, c))(Cj)  # I3(0, 1, 2) is TUPLES[0]
    assert float(full[0, 0, 2]) == pytest.approx(float(_averages(act, C, TUPLES.T)["I3"][0]), rel=1e-12)


def test_gauss_hermite_is_exact_for_polynomials_on_singular_covariances():
    # Isserlis: E[z0^2 z1^2] = C00 C11 + 2 C01^2, also for the singular C of fields (2, 4).
    covs = jnp.asarray(np.stack([C[np.ix_(p, p)] for p in ([0, 1], [2, 4], [1, 5], [0, 6])]))
    got = jax.jit(lambda Cs: gauss_hermite(lambda z: z[..., 0] ** 2 * z[..., 1] ** 2, Cs, 4))(covs)
    want = covs[:, 0, 0] * covs[:, 1, 1] + 2 * covs[:, 0, 1] ** 2
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_activation_lookup():
    assert ACTIVATIONS == ("erf", "relu", "linear")
    for name in ACTIVATIONS:
        act = activation(name)
        assert isinstance(act, Activation) and act.name == name and activation(act) is act

    def swish(x):
        return x * jax.nn.sigmoid(x)

    act = activation(swish)
    assert act.name == "swish"
    x = jnp.linspace(-2.0, 2.0, 5)
    np.testing.assert_allclose(act.dg(x), jax.vmap(jax.grad(swish))(x), rtol=1e-12)
    np.testing.assert_allclose(activation("relu").dg(jnp.array([-1.0, 0.0, 2.0])), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("bad", ["foo", "Relu", 3])
def test_bad_activation_raises(bad):
    with pytest.raises(ValueError, match="activation must be one of 'erf', 'relu', 'linear'") as info:
        activation(bad)
    assert repr(bad) in str(info.value)


# =========================================================================== single fields
# expect_1d / expect_pair (the uniform rule), relu_kernel, relu_step_kernel: the MLP moments of the
# signal-propagation layer map (owned by the signal_prop family).

def _quad_normal(f, lo=-np.inf, hi=np.inf):
    """E[f(u) 1{lo < u < hi}], u ~ N(0, 1), by adaptive quadrature (an independent reference; at these
    tolerances quad may warn of round-off, which lies far below the differences tested)."""
    import warnings

    from scipy.integrate import IntegrationWarning, quad

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        return quad(lambda u: f(u) * np.exp(-u * u / 2) / math.sqrt(2 * math.pi), lo, hi, epsabs=1e-15,
                    epsrel=1e-14, limit=400)[0]


@pytest.mark.parametrize("s, q", [(0.5, 1.0), (1.0, 1.0), (2.0, 2.0), (4.0, 1.0)])
def test_uniform_rule_is_exact_to_1e_10_for_tanh_up_to_slope_4(s, q):
    """E[tanh(s u)^2], u ~ N(0, q), against adaptive quadrature: within 1e-9 (worst measured 4e-10, at s = 4, where
    Gauss-Hermite with as many nodes is off by 7e-4); the narrower E[tanh'(s u)^2] within 1e-9 up to slope 3 and
    3e-8 at slope 4 (measured 1.7e-8). E[tanh(s u) tanh(s v)] within 1e-9 of the same rule on a grid 9 times finer
    (h = 0.011: its error, ~exp(-2 pi (pi / 2 s) / h), is below rounding; worst measured 2e-10, c = 0.999)."""
    from hild.core.gaussian import expect_1d, expect_pair

    f, df = (lambda x: np.tanh(s * x)), (lambda x: 1 - np.tanh(s * x) ** 2)
    slope = s * math.sqrt(q)
    for g, tol in ((lambda x: f(x) ** 2, 1e-9), (lambda x: df(x) ** 2, 1e-9 if slope <= 3 else 3e-8)):
        want = _quad_normal(lambda u: g(math.sqrt(q) * u))
        assert abs(float(expect_1d(g, q)) - want) < tol
    x = np.linspace(-9.0, 9.0, 1601)
    w = np.exp(-x ** 2 / 2)
    w /= w.sum()
    cs = np.array([-0.6, 0.0, 0.3, 0.9, 0.999])
    got = expect_pair(f, q, q * cs)
    for c, value in zip(cs, got):
        v = math.sqrt(q) * (c * x[:, None] + math.sqrt(1 - c * c) * x[None, :])
        assert abs(value - (f(math.sqrt(q) * x) * w) @ f(v) @ w) < 1e-9
    assert expect_pair(f, q, q) == pytest.approx(expect_1d(lambda x: f(x) ** 2, q), abs=1e-14)  # c = 1
    assert got.shape == cs.shape and expect_pair(f, np.full((2, 1), q), q * cs).shape == (2, 5)


def test_relu_kernels_against_quadrature():
    """rho(c) = E[relu(u) relu(v)] / (q / 2) and E[H(u) H(v)] for unit fields of correlation c, against a 1-d
    quadrature over u of the closed-form average over v given u."""
    from scipy.stats import norm

    from hild.core.gaussian import relu_kernel, relu_step_kernel

    for c in (-0.999, -0.5, 0.0, 0.3, 0.8, 0.999):
        s = math.sqrt(1 - c * c)
        relu_v = lambda u: c * u * norm.cdf(c * u / s) + s * norm.pdf(c * u / s)  # noqa: E731 (E[relu(v) | u])
        assert float(relu_kernel(c)) == pytest.approx(2 * _quad_normal(lambda u: u * relu_v(u), 0.0), abs=1e-12)
        assert float(relu_step_kernel(c)) == pytest.approx(_quad_normal(lambda u: norm.cdf(c * u / s), 0.0),
                                                           abs=1e-12)
    assert float(relu_kernel(1.0)) == 1.0 and float(relu_step_kernel(1.0)) == 0.5
    assert float(relu_kernel(0.0)) == pytest.approx(1 / math.pi) and float(relu_step_kernel(0.0)) == 0.25


def test_normal_panels_are_exact_for_a_kinked_integrand():
    """E[max(0, 1 - X)], X ~ N(0, 4) = Phi(1/2) + 2 phi(1/2): Gauss-Legendre panels meeting at the kink reach
    rounding, where 96 Gauss-Hermite nodes across it are 4e-3 off."""
    from scipy.stats import norm

    from hild.core.gaussian import normal_panels

    exact = norm.cdf(0.5) + 2 * norm.pdf(0.5)
    with jax.enable_x64(True):
        x, w = normal_panels(2.0, jnp.array([1.0, -3.0]), 24)
        assert abs(float(jnp.sum(w * jnp.maximum(0.0, 1.0 - x))) - exact) < 1e-13
        assert abs(float(w.sum()) - 1.0) < 1e-13
        x, w = normal_panels(2.0, jnp.array([0.3]), 24)  # the kink not among the cuts: no longer exact
        assert abs(float(jnp.sum(w * jnp.maximum(0.0, 1.0 - x))) - exact) > 1e-6
