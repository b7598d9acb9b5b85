"""Do a workspace's latents still describe its model and its images?

Latents record the fingerprint of the weights that encoded them and a fingerprint of the store they
came from (count, image size, a digest of sampled images). Every consumer — ``analyze``, ``sample``,
``sweep``, the GUI — asks :func:`check_staleness` and warns with the command that fixes it; ``train
--resume`` checks the store against the one the last epoch was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InvalidInputError
from ..inputs import printable
from ..schemas import LatentsMeta, StoreFingerprint

if TYPE_CHECKING:
    from . import Workspace


@dataclass(frozen=True)
class Staleness:
    """Why the latents no longer match (each None when they do)."""

    model: str | None = None
    store: str | None = None
    fix: str = ""

    @property
    def stale(self) -> bool:
        return self.model is not None or self.store is not None

    @property
    def message(self) -> str:
        """One line: what changed and the command that re-encodes."""
        parts = [p for p in (self.model, self.store) if p]
        return "; ".join(parts) + (f" (run '{self.fix}')" if parts and self.fix else "")


def describe_store_change(old: StoreFingerprint, new: StoreFingerprint) -> str | None:
    """What differs between two store fingerprints, or None if they are the same."""
    if old.size != new.size:
        return f"images are now {new.size}x{new.size} px, were {old.size}x{old.size} px"
    if old.count != new.count:
        return f"the dataset now has {new.count:,} images, had {old.count:,}"
    if old.digest != new.digest:
        return "the dataset's images changed (same count, other content)"
    return None


def check_staleness(ws: "Workspace", meta: LatentsMeta | None) -> Staleness:
    """Compare latents ``meta`` with the committed model and the current store of ``ws``."""
    fix = f"latentexplorer encode --workspace {printable(ws.path)}"
    if meta is not None and meta.name is not None:
        fix += f" --data {printable(meta.data or 'STORE')} --name {meta.name}"
    if meta is None:
        return Staleness(fix=fix)
    model_msg = None
    cp = ws.checkpoint()
    if cp is not None and meta.fingerprint != cp.fingerprint:
        when = f"epoch {meta.epoch}" if meta.epoch is not None else "an earlier model"
        model_msg = (f"the latents were encoded by {when}'s weights, the model is now at epoch "
                     f"{cp.epoch}")
    store_msg = None
    if meta.name is None:  # the training latents follow the workspace's store
        try:
            store = ws.dataset()
        except InvalidInputError as exc:
            store_msg = f"the dataset cannot be opened ({exc})"
        else:
            now = store.fingerprint()
            if meta.store is not None:
                store_msg = describe_store_change(meta.store, now)
            elif meta.n != now.count:
                store_msg = f"the dataset now has {now.count:,} images, the latents {meta.n:,}"
            if store_msg:
                store_msg = f"since encoding, {store_msg}"
    return Staleness(model_msg, store_msg, fix)
