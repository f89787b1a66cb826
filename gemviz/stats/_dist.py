"""The few distribution functions the statistics use, straight from ``scipy.special``.

``scipy.stats`` takes about half a second to import (every distribution is built and its
docstring parsed); the tests here need five quantile and tail functions and the binomial
test, which ``scipy.stats`` computes with these same ``scipy.special`` routines. Each function
returns what its ``scipy.stats`` namesake returns, edge cases included (a probability of 0 or
1, degrees of freedom that are not positive: NaN); ``tests/test_stats.py`` compares them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special as _sc
from scipy.special import _ufuncs as _scu


def _out(value: np.ndarray, *inputs) -> np.ndarray | float:
    """A float for scalar inputs, else the array (as ``scipy.stats`` returns them)."""
    return float(value) if all(np.ndim(x) == 0 for x in inputs) else value


def norm_ppf(q):
    """``scipy.stats.norm.ppf(q)``."""
    return _out(np.asarray(_sc.ndtri(np.asarray(q, dtype=float))), q)


def norm_sf(x):
    """``scipy.stats.norm.sf(x)``."""
    return _out(np.asarray(_sc.ndtr(-np.asarray(x, dtype=float))), x)


def t_ppf(q, df):
    """``scipy.stats.t.ppf(q, df)``."""
    qa, da = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(df, dtype=float))
    ok = da > 0
    inner = ok & (qa > 0) & (qa < 1)
    with np.errstate(invalid="ignore"):
        value = np.where(
            inner, _sc.stdtrit(np.where(ok, da, 1.0), np.where(inner, qa, 0.5)), math.nan
        )
    value = np.where(ok & (qa == 0), -math.inf, np.where(ok & (qa == 1), math.inf, value))
    return _out(value, q, df)


def t_sf(x, df):
    """``scipy.stats.t.sf(x, df)``."""
    xa, da = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    ok = da > 0
    with np.errstate(invalid="ignore"):
        value = np.where(ok, _sc.stdtr(np.where(ok, da, 1.0), -xa), math.nan)
    return _out(value, x, df)


def beta_ppf(q, a, b):
    """``scipy.stats.beta.ppf(q, a, b)``."""
    qa, aa, ba = np.broadcast_arrays(
        np.asarray(q, dtype=float), np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    )
    ok = (aa > 0) & (ba > 0)
    inner = ok & (qa > 0) & (qa < 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(
            inner,
            _scu._beta_ppf(np.where(inner, qa, 0.5), np.where(ok, aa, 1.0), np.where(ok, ba, 1.0)),
            math.nan,
        )
    value = np.where(ok & (qa == 0), 0.0, np.where(ok & (qa == 1), 1.0, value))
    return _out(value, q, a, b)


def _binom_pmf(k: float, n: int, p: float) -> float:
    return float(_scu._binom_pmf(k, n, p)) if 0 <= k <= n else 0.0


def _binom_cdf(k: float, n: int, p: float) -> float:
    k = math.floor(k)
    if k < 0:
        return 0.0
    return 1.0 if k >= n else float(_scu._binom_cdf(k, n, p))


def _binom_sf(k: float, n: int, p: float) -> float:
    k = math.floor(k)
    if k < 0:
        return 1.0
    return 0.0 if k >= n else float(_scu._binom_sf(k, n, p))


def binomtest_two_sided(k: int, n: int, p: float) -> float:
    """``scipy.stats.binomtest(k, n, p).pvalue`` (two-sided: the outcomes no likelier than
    ``k``), by the same search and sums."""
    d = _binom_pmf(k, n, p)
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    if k < p * n:
        ix = _search(lambda x: -_binom_pmf(x, n, p), -d * rerr, math.ceil(p * n), n)
        y = n - ix + int(d * rerr == _binom_pmf(ix, n, p))
        pval = _binom_cdf(k, n, p) + _binom_sf(n - y, n, p)
    else:
        ix = _search(lambda x: _binom_pmf(x, n, p), d * rerr, 0, math.floor(p * n))
        y = ix + 1
        pval = _binom_cdf(y - 1, n, p) + _binom_sf(k - 1, n, p)
    return min(1.0, pval)


def _search(a, d: float, lo: int, hi: int) -> int:
    """The index ``i`` in ``[lo, hi]`` with ``a(i) <= d < a(i + 1)`` (``a`` ascending)."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = a(mid)
        if value < d:
            lo = mid + 1
        elif value > d:
            hi = mid - 1
        else:
            return mid
    return lo if a(lo) <= d else lo - 1
