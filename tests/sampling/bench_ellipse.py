"""Benchmark: ellipse method, 100,000 vectors, n_comp = 100, z_dim = 256, vs the pairwise loop.

Run: python tests/sampling/bench_ellipse.py   (not collected by pytest)
"""

import time

import numpy as np

from latentexplorer.sampling.generators import (EllipseSampler, ellipse_condition_violations,
                                                ellipse_sample_pairwise_loop)


def best_of(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), float(np.median(times))


def main(n=100_000, n_comp=100, z_dim=256, n_loop=300):
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((z_dim, z_dim)))
    z = (rng.standard_normal((20_000, z_dim)) * np.geomspace(3, 0.05, z_dim)) @ q.T + 0.3
    t = time.perf_counter()
    s = EllipseSampler(n_components=n_comp, sigma_level=2.35, fact=0.7).fit(z)
    print(f"fit (PCA of {len(z)} x {z_dim}): {time.perf_counter() - t:.3f} s")
    s.sample(1000, 0)
    best, med = best_of(lambda: s.sample(n, 1), 7)
    print(f"sample {n} vectors (latent, float32):   best {best:.3f} s  median {med:.3f} s")
    best_p, med_p = best_of(lambda: s.sample_pca(n, 1), 7)
    print(f"sample_pca {n} vectors (PCA coords):    best {best_p:.3f} s  median {med_p:.3f} s")
    v = s.sample_pca(n, 1)
    print(f"violating pairs in {n} vectors: {int(ellipse_condition_violations(v, s.half_axes_scaled_).sum())}")
    t = time.perf_counter()
    slow = ellipse_sample_pairwise_loop(s.half_axes_scaled_, n_loop, 2)
    t_loop = time.perf_counter() - t
    scaled = t_loop * n / n_loop
    print(f"pairwise loop: {n_loop} vectors {t_loop:.2f} s -> {n} vectors ~{scaled:.0f} s "
          f"(PCA coords only); speed-up x{scaled / best_p:.0f}")
    print(f"violating pairs in loop vectors: {int(ellipse_condition_violations(slow, s.half_axes_scaled_).sum())}")


if __name__ == "__main__":
    main()
