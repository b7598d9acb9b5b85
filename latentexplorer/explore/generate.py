"""The one generate → decode → score pipeline, shared by ``latentexplorer sample`` / ``sweep`` and the
GUI's generator tab.

* :class:`GeneratorSpec` — which generator, its settings, how many vectors, the seed (what a grid's
  sidecar and the GUI state record; the same spec on the same z-points gives the same vectors);
* :class:`GenerationContext` — what one workspace provides, loaded once: the z-points, the decoder of
  one committed epoch with its fingerprint, the closeness scorer, the judge's reference photos, and
  the provenance written into every output;
* :func:`generate` — fit (cached) → sample → decode → judge and score, returning a :class:`Generated`
  whose :meth:`~Generated.scoreboard` entry is what every front end shows
  (:mod:`latentexplorer.explore.scoreboard`);
* :func:`write_grid` — the PNG + JSON sidecar of a :class:`Generated`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..inputs import printable
from ..progress import ProgressReporter

METHODS = ("uniform", "normal", "mvn", "ellipse", "grid")
#: most images one grid may hold (10,000 tiles of 96 px are a 9600 x 9600 PNG)
MAX_GRID_IMAGES = 10_000
DEFAULTS = {"uniform": {"b": 1.5}, "normal": {"sigma": 1.0}, "mvn": {},
            "ellipse": {"n_components": 100, "sigma_level": 2.35, "fact": 0.7},
            "grid": {"b": 1.5, "points_per_axis": 3}}


@dataclass(frozen=True)
class GeneratorSpec:
    """A generator and its settings (constructor parameters of ``sampling.generators``)."""

    method: str = "ellipse"
    params: dict = field(default_factory=dict)
    n: int = 28
    seed: int = 0

    @classmethod
    def of(cls, method: str, n: int = 28, seed: int = 0, z_dim: int | None = None,
           **values: Any) -> "GeneratorSpec":
        """The spec of ``method`` with ``values`` over its defaults (``None`` = default; ``n_comp``
        is accepted for ``n_components``; its default is capped at ``z_dim``, a larger given value is
        refused when the generator is fitted); other keys are ignored."""
        from ..sampling.generators import make_sampler

        if method not in DEFAULTS:
            raise InvalidInputError(f"method: unknown generator {method!r}; choose one of {', '.join(METHODS)}")
        values = {("n_components" if k == "n_comp" else k): v for k, v in values.items() if v is not None}
        params = {k: values.get(k, v) for k, v in DEFAULTS[method].items()}
        if method == "normal" and values.get("center"):
            params["center"] = True
        if method == "mvn" and values.get("truncate") is not None:
            params["truncate"] = values["truncate"]
        if method == "ellipse" and "n_components" not in values and z_dim is not None:
            params["n_components"] = min(100, z_dim)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 10_000_000:
            raise InvalidInputError(f"n={n!r}: expected an integer from 1 to 10,000,000 vectors")
        make_sampler(method, **params)  # unknown parameter: fail before anything is loaded
        return cls(method, params, int(n), int(seed))

    def to_dict(self) -> dict:
        return {"method": self.method, "params": dict(self.params), "n": self.n, "seed": self.seed}

    @classmethod
    def from_dict(cls, d: dict) -> "GeneratorSpec":
        if not isinstance(d, dict):
            raise InvalidInputError("generator spec: expected an object")
        return cls.of(d.get("method"), d.get("n", 28), d.get("seed", 0), **dict(d.get("params") or {}))


@dataclass
class Generated:
    """Vectors of a spec, their decoded images (the first ``len(images)``) and their scores."""

    spec: GeneratorSpec
    name: str
    settings: dict
    z: np.ndarray
    images: np.ndarray | None = None
    scores: Any = None  # render.closeness.Closeness of the decoded vectors
    judge: dict | None = None  # explore.scoreboard.judge_images of the decoded images
    data_radius: dict | None = None  # radius of the data (and of a VAE's sampled cloud)

    @property
    def radius(self) -> np.ndarray:
        return np.linalg.norm(self.z.astype(np.float64), axis=1)

    def scoreboard(self) -> dict:
        """The scoreboard entry (detector rates, variety, coverage, re-encode ratio, radius)."""
        from .scoreboard import entry

        return entry(self, self.data_radius)

    def confidences(self) -> list[float | None] | None:
        """MTCNN's confidence per decoded image (0 where no face was found), or None."""
        if self.judge is None or not self.judge.get("images"):
            return None
        return [(im.get("mtcnn") or {}).get("confidence") or 0.0 for im in self.judge["images"]]


class GenerationContext:
    """What a workspace provides for generating (see the module docstring).

    Parameters
    ----------
    z : ndarray of shape (n_points, z_dim)
        The z-points the generators are fitted to.
    decoder : models.codec.Decoder or None
    fingerprint : str, optional
        Weights fingerprint of ``decoder`` (recorded in every sidecar; writing a grid needs it).
    ws : Workspace, optional
        Gives the encoder and training images for the closeness scores, the held-out photos the
        judge compares with, and the provenance.
    sampled : ndarray of shape (n_points, z_dim), optional
        A VAE's sampled cloud z = μ + σ·ε (what its decoder was trained on): the closeness scores and
        the radius are measured against it too.
    provenance : dict, optional
        Extra JSON entries for every sidecar (workspace, epochs, staleness of the latents).
    """

    def __init__(self, z: np.ndarray, decoder=None, fingerprint: str | None = None, *, ws=None,
                 snapshot=None, provenance: dict | None = None, sampled: np.ndarray | None = None) -> None:
        from .scoreboard import radius_summary

        self.z = z
        self.decoder = decoder
        self.fingerprint = fingerprint
        self.ws = ws
        self.snapshot = snapshot
        self.sampled = sampled
        self.provenance = dict(provenance or {})
        self.data_radius = radius_summary(z, sampled)
        self._samplers: dict[tuple, Any] = {}
        self._scorer = None
        self._reference: dict | None | bool = False  # False: not computed yet

    @classmethod
    def from_workspace(cls, ws, warn=None) -> "GenerationContext":
        """The latents of ``ws`` and the decoder of its committed epoch (loaded once); stale latents
        are reported through ``warn`` and recorded in the provenance."""
        from ..models.codec import Decoder
        from ..models.io import weights_fingerprint

        snapshot = ws.snapshot()
        latents = ws.latents()
        staleness = ws.staleness(latents)
        if staleness.stale and warn is not None:
            warn(f"{ws.path}: {staleness.message}")
        keras_decoder = ws.load_decoder(snapshot)
        provenance = {"workspace": str(Path(ws.path).resolve()), "model_kind": ws.model_config.kind,
                      "model_epoch": snapshot.epoch,
                      "latents": {"fingerprint": latents.fingerprint, "epoch": latents.meta.epoch,
                                  "stale": staleness.message if staleness.stale else None}}
        from .scoreboard import sampled_cloud

        return cls(latents.z, Decoder(keras_decoder), weights_fingerprint(keras_decoder), ws=ws,
                   snapshot=snapshot, provenance=provenance, sampled=sampled_cloud(latents))

    def sampler(self, spec: GeneratorSpec):
        """The generator of ``spec`` fitted to the z-points (fitted once per method and settings)."""
        from ..sampling.generators import make_sampler

        key = (spec.method, tuple(sorted(spec.params.items())))
        if key not in self._samplers:
            self._samplers[key] = make_sampler(spec.method, **spec.params).fit(np.asarray(self.z))
        return self._samplers[key]

    def scorer(self):
        """The closeness scorer (needs the workspace's encoder and images; None without). For a VAE
        it measures against the sampled cloud, the one the decoder was trained on."""
        if self._scorer is None and self.ws is not None and self.decoder is not None:
            from ..analysis.statistics import component_stats
            from ..models.codec import Encoder
            from ..render.closeness import ClosenessScorer

            cloud = self.z if self.sampled is None else self.sampled
            stats = component_stats(cloud)
            encoder = Encoder(self.ws.load_encoder(self.snapshot or self.ws.snapshot()))
            store = self.ws.dataset()
            made = tuple(self.decoder.image_shape[:2])
            if (store.size, store.size) != made:
                raise InvalidInputError(
                    f"{printable(store.path)}: images are {store.size}x{store.size} px but the "
                    f"decoder makes {made[0]}x{made[1]} px (the store was replaced since training): "
                    "the closeness scores cannot compare them; pass --no-scores or re-import the "
                    "store at the model's size")
            self._scorer = ClosenessScorer(self.decoder, encoder, cloud, store.images,
                                           mu=stats.mu, half_width=stats.half_width)
        return self._scorer

    def judge_reference(self, progress=None) -> dict | None:
        """Judge features of held-out photos of the workspace's dataset (computed once)."""
        if self._reference is False:
            from .scoreboard import judge_reference

            self._reference = None if self.ws is None else judge_reference(self.ws, progress=progress)
        return self._reference


def generate(spec: GeneratorSpec, ctx: GenerationContext, *, n_decode: int | None = None,
             score: bool = True, progress: ProgressReporter | None = None) -> Generated:
    """Sample ``spec.n`` vectors, decode the first ``n_decode`` (default: all); with ``score``,
    judge the decoded images (face detectors, variety, coverage) and score their closeness."""
    reporter = progress or ProgressReporter()
    reporter.update(0, 5, f"fitting the {spec.method} generator")
    sampler = ctx.sampler(spec)
    reporter.raise_if_cancelled()
    reporter.update(1, 5, f"sampling {spec.n:,} vectors")
    z = np.asarray(sampler.sample(spec.n, np.random.default_rng(spec.seed)), dtype=np.float32)
    out = Generated(spec, sampler.name, sampler.params(), z, data_radius=ctx.data_radius)
    n_decode = spec.n if n_decode is None else min(int(n_decode), spec.n)
    if ctx.decoder is not None and n_decode > 0:
        reporter.raise_if_cancelled()
        reporter.update(2, 5, f"decoding {n_decode} faces")
        out.images = ctx.decoder.decode(z[:n_decode])
        if score:
            from .scoreboard import judge_images

            reporter.raise_if_cancelled()
            reporter.update(3, 5, "judging the faces (MTCNN, Haar, variety, coverage)")
            out.judge = judge_images(out.images, ctx.judge_reference(reporter), progress=reporter)
            reporter.raise_if_cancelled()
            scorer = ctx.scorer()
            if scorer is not None:
                reporter.update(4, 5, "re-encode and closeness scores")
                out.scores = scorer.score(z[:n_decode], out.images)
    reporter.update(5, 5, f"{spec.n:,} vectors generated")
    return out


def write_grid(gen: Generated, ctx: GenerationContext, out, *, sharpen: float = 0,
               cols: int | None = 7, scale: int = 1, labels=None, staged: bool = False,
               extra: dict | None = None) -> Path:
    """Write the decoded images of ``gen`` as ``out`` (.png) + sidecar; returns the sidecar path."""
    from ..render.images import save_grid

    if gen.images is None:
        raise InvalidInputError("no decoded faces to write (the workspace has no decoder)")
    n = len(gen.images)
    cols = min(n, cols) if cols else None
    radius = gen.radius[:n]
    scores = None
    if gen.judge is not None or gen.scores is not None:
        scores = {"scoreboard": gen.scoreboard(), "judge": gen.judge,
                  "closeness": None if gen.scores is None else gen.scores.to_dict()}
    return save_grid(out, gen.images, gen.z[:n], generator=gen.name, settings=gen.settings,
                     seed=gen.spec.seed, fingerprint=ctx.fingerprint, scores=scores, cols=cols,
                     labels=labels, sharpen=sharpen, scale=scale, staged=staged,
                     extra={**ctx.provenance, "n_generated": int(len(gen.z)),
                            "radius": {"mean": float(radius.mean()), "std": float(radius.std())},
                            **(extra or {})})
