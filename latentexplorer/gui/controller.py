"""The explorer's controller: it starts the background jobs and hands their results to the state.

Widgets ask the controller for work (open a workspace, re-encode, decode the current vector) and
observe :class:`~latentexplorer.gui.state.AppState`; the controller runs the work in the
:class:`~latentexplorer.gui.workers.TaskRunner` or the :class:`DecodeService` and puts the results
into ``state.model`` (z-points, analysis, decoded image) or ``state`` (workspace, decoder).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..errors import InvalidInputError
from ..explore.analysis import compute_analysis
from ..explore.persist import restore, to_state
from ..progress import ProgressReporter
from .decoding import DecodeService, LatestWinsThread
from .state import AppState

log = logging.getLogger(__name__)


def load_workspace_data(params, reporter: ProgressReporter | None = None) -> dict:
    """Job: the latents, dataset labels and decoder of ``params["ws"]`` (what exists of them)."""
    from ..models.codec import Decoder
    from ..models.io import weights_fingerprint

    reporter = reporter or ProgressReporter()
    ws = params["ws"]
    out: dict[str, Any] = {"latents": None, "decoder": None, "fingerprint": None}
    reporter.update(0, 2, "loading z-points")
    if ws.has_latents:
        out["latents"] = ws.latents()
    reporter.raise_if_cancelled()
    reporter.update(1, 2, "loading the decoder")
    if ws.has_model:
        try:
            keras_decoder = ws.load_decoder()
            out["decoder"] = Decoder(keras_decoder)
            out["fingerprint"] = weights_fingerprint(keras_decoder)
        except InvalidInputError as exc:  # the z-points still load; say why no face appears
            out["decoder_error"] = f"the decoder could not be loaded, faces cannot be shown: {exc}"
    out["layers"] = {}
    for name in ws.latent_set_names():  # other images encoded by this model: extra layers
        try:
            layer = ws.latents(name)
        except InvalidInputError as exc:
            log.warning("latent set %s not shown: %s", name, exc)
            continue
        if ws.staleness(layer).model is None:  # encoded by the weights now committed
            out["layers"][name] = layer.z
    reporter.update(2, 2, "workspace loaded")
    return out


def analysis_job(z, reporter: ProgressReporter):
    return compute_analysis(z, reporter)


def encode_job(params, reporter: ProgressReporter):
    return params["ws"].encode(progress=reporter)


def synthetic_workspace_task(params, reporter: ProgressReporter):
    """Job: generate a synthetic-face store and create a workspace on it (not trained yet).

    Params: ``folder`` (new/empty), ``n``, ``size``, ``z_dim``, ``kind``, ``epochs``, ``seed``.
    Returns the :class:`~latentexplorer.workspace.Workspace`.
    """
    from ..data.synth import write_synthetic_store
    from ..schemas import ModelConfig
    from ..workspace import Workspace

    folder = Path(params["folder"])
    store = write_synthetic_store(folder / "faces", n=int(params["n"]), size=int(params["size"]),
                                  seed=int(params["seed"]), progress=reporter)
    reporter.raise_if_cancelled()
    cfg = ModelConfig.from_preset("case1", kind=params["kind"], z_dim=int(params["z_dim"]),
                                  image_size=store.size)
    return Workspace.create(folder / "workspace", folder / "faces", cfg,
                            training={"epochs": int(params["epochs"]), "seed": int(params["seed"])})


class ExplorerController(QObject):
    """See the module docstring.

    Signals
    -------
    loaded(ws) : the workspace's z-points and decoder are in the state
    """

    loaded = Signal(object)

    def __init__(self, state: AppState, runner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runner = runner
        self.decoding = DecodeService(self)
        #: exact nearest data points of the current vector (face view, neighbour list)
        self.neighbours = LatestWinsThread("neighbours", parent=self)
        self._current_token = 0
        self.last_decode_ms: float | None = None
        #: the gui_state.json of the workspace opened last (panels restore their part from it)
        self.restored: dict = {}
        self.decoding.decoded.connect(self._on_decoded)
        self.decoding.failed.connect(self._on_decode_failed)
        state.currentChanged.connect(lambda _c: self.decode_current())
        state.decoderChanged.connect(lambda _d: self.decode_current())

    # ------------------------------------------------------------------ workspaces
    def open_workspace(self, ws) -> None:
        """Make ``ws`` current: its store now, its z-points and decoder in a background job."""
        state, model = self.state, self.state.model
        dataset = None
        try:
            dataset = ws.dataset()
        except InvalidInputError as exc:  # moved data: the explorer is still usable
            log.warning("dataset of %s not available: %s", ws.path, exc)
        saved = ws.read_gui_state(warn=log.warning)
        state.set_decoder(None)
        model.set_data(None)
        model.set_samples(None)
        model.set_path(None)
        state.set_workspace(ws, dataset)
        worker = self.runner.start("load", load_workspace_data, {"ws": ws})
        worker.result.connect(lambda res, ws=ws, saved=saved:
                              self._on_loaded(ws, res, saved) if state.workspace is ws else None)
        worker.error.connect(state.errorOccurred.emit)

    def _on_loaded(self, ws, res: dict, saved: dict) -> None:
        state, model = self.state, self.state.model
        if res.get("decoder") is not None:
            state.set_decoder(res["decoder"], res["fingerprint"])
        elif res.get("decoder_error"):
            state.errorOccurred.emit(res["decoder_error"])
        latents = res.get("latents")
        if latents is not None:
            ds = state.dataset
            model.set_data(latents.z, latents_meta=latents.meta,
                           attributes=None if ds is None else ds.attributes,
                           attribute_names=None if ds is None else ds.attribute_names,
                           filenames=None if ds is None else ds.filenames)
            self.start_analysis()
            for name, z in (res.get("layers") or {}).items():
                model.set_layer(name, z)
        self.restored = dict(saved or {})
        if saved:
            restore(model, saved, warn=log.warning)
        self.check_staleness()
        self.loaded.emit(ws)

    def start_analysis(self) -> None:
        model = self.state.model
        z = model.z
        if z is None:
            return
        worker = self.runner.start("analysis", analysis_job, z)
        worker.result.connect(lambda a, z=z: model.set_analysis(a) if model.z is z else None)
        worker.error.connect(self.state.errorOccurred.emit)

    def encode(self) -> None:
        """Encode the dataset with the committed encoder, then reload the workspace."""
        ws = self.state.workspace
        if ws is None:
            self.state.errorOccurred.emit("Open a workspace first.")
            return
        worker = self.runner.start("encode", encode_job, {"ws": ws})
        worker.result.connect(lambda _lat, ws=ws: self.open_workspace(ws)
                              if self.state.workspace is ws else None)
        worker.error.connect(self.state.errorOccurred.emit)

    def save_gui_state(self, **extra) -> None:
        ws = self.state.workspace
        if ws is None:
            return
        try:
            ws.write_gui_state(to_state(self.state.model, **extra))
        except OSError as exc:  # disposable file: never block closing the window
            log.warning("gui_state.json not written: %s", exc)

    def check_staleness(self) -> None:
        """Tell the state whether the shown z-points still match the committed model and store."""
        from ..workspace.staleness import check_staleness

        ws, meta = self.state.workspace, self.state.model.latents_meta
        message = None
        if ws is not None and meta is not None and not self.runner.is_running("encode"):
            try:
                stale = check_staleness(ws, meta)
                message = stale.message.split(" (run ")[0] if stale.stale else None
            except (InvalidInputError, OSError) as exc:
                message = str(exc)
        self.state.staleChanged.emit(message)

    # ------------------------------------------------------------------ decoding
    def decode_current(self) -> None:
        """Decode the current vector in the background (the newest request wins)."""
        state, cur = self.state, self.state.model.current
        if state.decoder is None or cur is None:
            state.model.set_image(None)
            return
        self._current_token += 1
        self.decoding.request("current", state.decoder, cur.vector[None, :], self._current_token)

    def decode_path(self, vectors: np.ndarray, token) -> None:
        if self.state.decoder is not None and len(vectors):
            self.decoding.request("path", self.state.decoder, vectors, token)

    def _on_decoded(self, slot: str, token, images, ms: float) -> None:
        if slot == "current" and token == self._current_token:
            self.last_decode_ms = ms
            self.state.model.set_image(images[0])

    def _on_decode_failed(self, slot: str, token, message: str) -> None:
        if slot == "current":
            self.state.model.set_image(None)
            self.state.errorOccurred.emit(f"decoding failed: {message}")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the decodes and the neighbour queries asked for are done (tests)."""
        return self.decoding.wait_idle(timeout) and self.neighbours.wait_idle(timeout)

    def close(self) -> None:
        self.decoding.stop()
        self.neighbours.stop()

