"""Diagnostics of a VAE's encoder output (SPEC §4): how "variational" is it really?

A VAE trained with a tiny KL weight behaves like a plain AE: ``logvar`` is very negative
(seed: mean ≈ −13.7), so the sampled ``z`` hardly differs from ``mu`` (seed: mean relative
radius difference ≈ 6e-5).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from ._validation import DEFAULT_CHUNK_ROWS, check_chunk_size, check_matrix, iter_chunks

__all__ = ["vae_diagnostics"]


def vae_diagnostics(mu, logvar, z=None, *, sample: bool = False, eps_clip: float = 5.0,
                    random_state: int = 0, chunk_size: int = DEFAULT_CHUNK_ROWS) -> dict:
    """Summary numbers of ``mu``, ``logvar`` and (optionally) the sampled ``z``.

    Parameters
    ----------
    mu, logvar : ndarray of shape (n_points, z_dim)
    z : ndarray of shape (n_points, z_dim), optional
        Sampled latent vectors ``mu + exp(logvar/2) · eps``.
    sample : bool, keyword-only
        Without ``z``: draw it here as the VAE does in training, ``eps ~ N(0, 1)`` clipped to
        ``|eps| <= eps_clip``, seeded by ``random_state``. (Encoded latents are ``z = mu``, so
        comparing them with ``mu`` would say nothing.)

    Returns
    -------
    dict
        ``logvar_min``, ``logvar_max``, ``logvar_mean``, ``sigma_mean`` (mean of
        ``exp(logvar/2)``), ``kl_mean`` (mean per-point KL divergence to N(0, I)),
        ``radius_mu_mean``; with ``z`` also ``max_abs_z_minus_mu``, ``radius_z_mean``,
        ``radius_abs_diff_mean`` (mean ``|R_z − R_mu|``) and ``radius_rel_diff_mean``
        (mean ``|R_z − R_mu| / R_mu`` over points with ``R_mu > 0``). All values are floats.
    """
    chunk_size = check_chunk_size(chunk_size)
    mu = check_matrix(mu, "mu", chunk_size=chunk_size)
    logvar = check_matrix(logvar, "logvar", chunk_size=chunk_size)
    if logvar.shape != mu.shape:
        raise InvalidInputError(f"logvar: shape {logvar.shape} differs from mu {mu.shape}")
    if z is not None:
        z = check_matrix(z, "z", chunk_size=chunk_size)
        if z.shape != mu.shape:
            raise InvalidInputError(f"z: shape {z.shape} differs from mu {mu.shape}")
    rng = np.random.default_rng(random_state) if (z is None and sample) else None
    n = mu.shape[0]
    lv_min, lv_max, lv_sum, sig_sum, kl_sum, rmu_sum = np.inf, -np.inf, 0.0, 0.0, 0.0, 0.0
    max_dev, rz_sum, abs_sum, rel_sum, rel_n = 0.0, 0.0, 0.0, 0.0, 0
    for start, block in iter_chunks(mu, chunk_size):
        m = np.asarray(block, dtype=np.float64)
        lv = np.asarray(logvar[start:start + m.shape[0]], dtype=np.float64)
        lv_min = min(lv_min, float(lv.min()))
        lv_max = max(lv_max, float(lv.max()))
        lv_sum += float(lv.sum())
        ev = np.exp(np.clip(lv, None, 700.0))
        sig_sum += float(np.sqrt(ev).sum())
        kl_sum += float((-0.5 * (1.0 + lv - m * m - ev)).sum())
        r_mu = np.sqrt(np.einsum("ij,ij->i", m, m))
        rmu_sum += float(r_mu.sum())
        if z is not None or rng is not None:
            if z is not None:
                zz = np.asarray(z[start:start + m.shape[0]], dtype=np.float64)
            else:
                eps = np.clip(rng.standard_normal(m.shape), -eps_clip, eps_clip)
                zz = m + np.sqrt(ev) * eps
            max_dev = max(max_dev, float(np.abs(zz - m).max()))
            r_z = np.sqrt(np.einsum("ij,ij->i", zz, zz))
            rz_sum += float(r_z.sum())
            diff = np.abs(r_z - r_mu)
            abs_sum += float(diff.sum())
            pos = r_mu > 0
            rel_sum += float((diff[pos] / r_mu[pos]).sum())
            rel_n += int(pos.sum())
    size = mu.size
    out = {"n_points": int(n), "z_dim": int(mu.shape[1]),
           "logvar_min": lv_min, "logvar_max": lv_max, "logvar_mean": lv_sum / size,
           "sigma_mean": sig_sum / size, "kl_mean": kl_sum / n, "radius_mu_mean": rmu_sum / n}
    if z is not None or rng is not None:
        out.update({"max_abs_z_minus_mu": max_dev, "radius_z_mean": rz_sum / n,
                    "radius_abs_diff_mean": abs_sum / n,
                    "radius_rel_diff_mean": rel_sum / rel_n if rel_n else 0.0})
    return {k: (float(v) if isinstance(v, float) else v) for k, v in out.items()}
