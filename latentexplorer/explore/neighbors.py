"""Nearest data points of any z-vector: exact, in a few milliseconds for 200,000 points."""

from __future__ import annotations

import numpy as np

#: leading PCA axes whose coordinates of all points are precomputed (plane switch = a copy)
PCA_CACHED_AXES = 32


def pca_leading_coords(z: np.ndarray, pca, k: int = PCA_CACHED_AXES,
                       chunk_rows: int = 16384) -> np.ndarray:
    """Coordinates (k, n) float32 (row per axis, contiguous) of all z on the k leading axes."""
    mean = np.asarray(pca.mean_, dtype=np.float64)
    comps = np.asarray(pca.components_, dtype=np.float64)
    k = int(min(k, comps.shape[0]))
    w = np.ascontiguousarray(comps[:k].T, dtype=np.float32)  # (d, k)
    off = (mean @ comps[:k].T).astype(np.float32)
    out = np.empty((k, z.shape[0]), np.float32)
    for s in range(0, z.shape[0], chunk_rows):
        block = np.asarray(z[s:s + chunk_rows], dtype=np.float32)
        out[:, s:s + len(block)] = (block @ w - off).T
    return out


class NearestIndex:
    """Exact nearest data point (Euclidean, in z-space) in a few milliseconds for 200k points.

    The points' coordinates on the k leading PCA axes and the norms of their residuals (the
    part outside those axes) are stored. For a query ``v`` the squared distance to point i is
    ``|c_i - c_v|^2 + |r_i - r_v|^2 >= |c_i - c_v|^2 + (|r_i| - |r_v|)^2`` (a lower bound
    from k-dimensional data only). Candidates are taken in order of that bound and checked
    exactly until the best exact distance is below the next bound -- exact, but touching only
    a few hundred of the 256-dimensional rows. Without a PCA (or for few points) it is a
    brute-force scan.
    """

    BRUTE_FORCE_MAX = 20_000

    def __init__(self, z: np.ndarray, pca=None, coords: np.ndarray | None = None) -> None:
        self.z = z
        self.n = int(z.shape[0])
        self._sq = None
        self.coords = None
        if pca is None or self.n <= self.BRUTE_FORCE_MAX:
            zz = np.asarray(z, dtype=np.float32)
            self._sq = np.einsum("ij,ij->i", zz, zz)
            return
        mean = np.asarray(pca.mean_, dtype=np.float64)
        comps = np.asarray(pca.components_, dtype=np.float64)
        if coords is None:
            coords = pca_leading_coords(z, pca)
        k = coords.shape[0]
        self._mean = mean.astype(np.float32)
        self._w = np.ascontiguousarray(comps[:k].T, dtype=np.float32)
        self.coords = np.ascontiguousarray(coords.T)  # (n, k)
        self._csq = np.einsum("ij,ij->i", self.coords, self.coords)
        tot = np.empty(self.n, np.float32)
        for s in range(0, self.n, 16384):
            d = np.asarray(z[s:s + 16384], dtype=np.float32) - self._mean
            tot[s:s + len(d)] = np.einsum("ij,ij->i", d, d)
        self._rnorm = np.sqrt(np.maximum(tot - self._csq, 0.0))

    def query(self, v: np.ndarray) -> tuple[int, float]:
        """(index, Euclidean distance) of the data point nearest to ``v`` (z_dim,)."""
        v = np.asarray(v, dtype=np.float32).reshape(-1)
        if self.coords is None:
            d2 = self._sq - 2.0 * (np.asarray(self.z, dtype=np.float32) @ v)
            # the expansion loses precision near 0: re-rank the best few exactly
            k = min(8, self.n)
            cand = np.argpartition(d2, k - 1)[:k] if k < self.n else np.arange(self.n)
            diff = np.asarray(self.z[np.sort(cand)], dtype=np.float64) - v
            exact = np.einsum("ij,ij->i", diff, diff)
            j = int(np.argmin(exact))
            return int(np.sort(cand)[j]), float(np.sqrt(exact[j]))
        dv = v - self._mean
        cv = dv @ self._w
        rv = float(np.sqrt(max(float(dv @ dv) - float(cv @ cv), 0.0)))
        bound = self._csq - 2.0 * (self.coords @ cv) + float(cv @ cv) + (self._rnorm - rv) ** 2
        best_i, best_d2 = -1, np.inf
        m = 64
        order = None
        while True:
            m = min(m, self.n)
            if order is None or len(order) < m:
                part = np.argpartition(bound, m - 1)[:m] if m < self.n else np.arange(self.n)
                order = part[np.argsort(bound[part])]
            cand = order
            d = np.asarray(self.z[np.sort(cand)], dtype=np.float64) - v
            d2 = np.einsum("ij,ij->i", d, d)
            j = int(np.argmin(d2))
            best_i, best_d2 = int(np.sort(cand)[j]), float(d2[j])
            if m >= self.n:
                break
            rest_min = float(np.partition(bound, m)[m])  # (m+1)-th smallest bound
            if best_d2 <= rest_min - 1e-5 * abs(rest_min):  # margin for float32 round-off
                break
            m *= 4
        return best_i, float(np.sqrt(max(best_d2, 0.0)))
