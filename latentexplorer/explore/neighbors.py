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
        self._dsq = tot  # |z_i - mean|^2, for the full scan

    def query(self, v: np.ndarray) -> tuple[int, float]:
        """(index, Euclidean distance) of the data point nearest to ``v`` (z_dim,)."""
        idx, dist = self.query_k(v, 1)
        return int(idx[0]), float(dist[0])

    def query_k(self, v: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (k,) int64 and Euclidean distances (k,) of the ``k`` data points nearest to
        ``v`` (z_dim,), nearest first (fewer when there are fewer points)."""
        v = np.asarray(v, dtype=np.float32).reshape(-1)
        k = int(min(max(int(k), 1), self.n))
        if self.coords is None:
            d2 = self._sq - 2.0 * (np.asarray(self.z, dtype=np.float32) @ v)
            # the expansion loses precision near 0: re-rank the best few exactly
            m = min(k + 8, self.n)
            cand = np.sort(np.argpartition(d2, m - 1)[:m] if m < self.n else np.arange(self.n))
            return self._exact_best(cand, v, k)
        dv = v - self._mean
        cv = dv @ self._w
        rv = float(np.sqrt(max(float(dv @ dv) - float(cv @ cv), 0.0)))
        bound = self._csq - 2.0 * (self.coords @ cv) + float(cv @ cv) + (self._rnorm - rv) ** 2
        m = max(64, 4 * k)
        # the bound prunes well for the nearest point; for a k-th neighbour as far away as most
        # points are (256 dimensions) it cannot, and past n / 16 candidates one scan is cheaper
        while m <= self.n // 16:
            part = np.argpartition(bound, m)  # the m + 1 smallest first, the (m+1)-th at [m]
            idx, dist = self._exact_best(np.sort(part[:m]), v, k)
            rest_min = float(bound[part[m]])  # (m+1)-th smallest bound
            kth_d2 = float(dist[-1]) ** 2
            if kth_d2 <= rest_min - 1e-5 * abs(rest_min):  # margin for float32 round-off
                return idx, dist
            m *= 4
        return self._scan(v, dv, k)

    def _scan(self, v: np.ndarray, dv: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Every point: |d_i - dv|^2 = |d_i|^2 - 2 d_i.dv + |dv|^2 (d = z - mean, one GEMV per
        chunk), then the best ``k + 8`` re-ranked exactly (the expansion rounds near 0)."""
        d2 = np.empty(self.n, np.float32)
        off = float(self._mean @ dv)
        for s in range(0, self.n, 65536):
            block = np.asarray(self.z[s:s + 65536], dtype=np.float32)
            d2[s:s + len(block)] = self._dsq[s:s + len(block)] - 2.0 * (block @ dv - off)
        m = min(k + 8, self.n)
        cand = np.sort(np.argpartition(d2, m - 1)[:m] if m < self.n else np.arange(self.n))
        return self._exact_best(cand, v, k)

    def _exact_best(self, cand: np.ndarray, v: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` candidates (sorted indices) nearest to ``v``, by exact float64 distances."""
        d = np.asarray(self.z[cand], dtype=np.float64) - v
        d2 = np.einsum("ij,ij->i", d, d)
        best = np.argsort(d2, kind="stable")[:k]
        return cand[best].astype(np.int64), np.sqrt(np.maximum(d2[best], 0.0))
