"""VAE tab: diagnostics of μ / logvar (logvar range, σ, KL, radius of z vs μ)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QVBoxLayout

from ...errors import InvalidInputError
from ...progress import ProgressReporter
from .base import _item, _Tab, _table


def vae_task(params, reporter: ProgressReporter | None = None) -> dict:
    """VAE diagnostics of the workspace's latents (``mu`` / ``logvar``), or arrays given directly."""
    from ...analysis.vae import vae_diagnostics

    mu, logvar, z = params.get("mu"), params.get("logvar"), params.get("z")
    if mu is None or logvar is None:
        ws = params["ws"]
        if reporter is not None:
            reporter.update(0, 2, "loading mu / logvar")
        lat = ws.latents()
        mu, logvar = lat.mu, lat.logvar
        if mu is None or logvar is None:
            raise InvalidInputError(f"{ws.path}: the latents have no mu/logvar (not a VAE)")
    if reporter is not None:
        reporter.update(1, 2, "VAE diagnostics")
    out = vae_diagnostics(mu, logvar, z if z is not None and z is not mu else None)
    if reporter is not None:
        reporter.update(2, 2, "VAE diagnostics ready")
    return {"diagnostics": out}


class VaeTab(_Tab):
    """VAE diagnostics: logvar range, σ, KL, radius of z vs μ."""

    title = "VAE"
    JOB = "vae-diagnostics"

    LABELS = {
        "logvar_min": "min logvar", "logvar_max": "max logvar", "logvar_mean": "mean logvar",
        "sigma_mean": "mean σ = exp(logvar/2)", "kl_mean": "mean KL per point",
        "radius_mu_mean": "mean radius of μ", "max_abs_z_minus_mu": "max |z − μ|",
        "radius_z_mean": "mean radius of z", "radius_abs_diff_mean": "mean |R(z) − R(μ)|",
        "radius_rel_diff_mean": "mean |R(z) − R(μ)| / R(μ)",
    }

    def __init__(self, views) -> None:
        super().__init__(views)
        self.result: dict | None = None
        self.table = _table(["quantity", "value"])
        self.table.setToolTip("Diagnostics of the VAE's μ and logvar on the whole dataset")
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.message)

    def export_target(self):
        return None

    def refresh(self) -> None:
        self.stale = False
        ws = self.state.workspace
        if ws is None or ws.model_config.kind != "vae" or not ws.has_latents:
            self.result = None
            self.table.setRowCount(0)
            self.message.setText("Only for a VAE workspace with encoded latents (mu / logvar)")
            return
        self._run(self.JOB, vae_task, {"ws": ws}, self._set_result, "computing VAE diagnostics …")

    def set_arrays(self, mu: np.ndarray, logvar: np.ndarray, z: np.ndarray | None = None) -> None:
        """Show the diagnostics of given arrays (computed in the worker)."""
        self._run(self.JOB, vae_task, {"mu": mu, "logvar": logvar, "z": z}, self._set_result,
                  "computing VAE diagnostics …")

    def _set_result(self, res: dict) -> None:
        d = res["diagnostics"]
        self.result = d
        self.table.setRowCount(len(d))
        for row, (k, v) in enumerate(d.items()):
            self.table.setItem(row, 0, _item(self.LABELS.get(k, k), align_right=False))
            self.table.setItem(row, 1, _item(f"{v:.6g}" if isinstance(v, float) else v))
        self.message.setText("")
