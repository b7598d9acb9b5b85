"""Cases 1 and 10: training throughput from the uint8 store, and peak RSS while training.

Both use the default model (``ModelConfig.from_preset("case1")``: AE, 96x96, z_dim 256, BCE)
built by :func:`~latentexplorer.models.autoencoder.build_model` (its ``train_step``) and the
input pipeline of :func:`~latentexplorer.models.training.train`
(:func:`~latentexplorer.data.tfdata.make_dataset`: shuffled index batches read from the uint8
memmap, scaled to float32 in the graph).
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from .data import face_store
from .runner import Context, Result, RssPoller, median


def _step_timer():
    import keras

    class StepTimer(keras.callbacks.Callback):
        """Times the steps of one ``fit`` after the first ``skip`` (tracing, pipeline start)."""

        def __init__(self, skip: int) -> None:
            super().__init__()
            self.skip = skip
            self.ends: list[float] = []

        def on_train_begin(self, logs=None):
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

        def images_per_second(self, batch_size: int) -> float:
            k = len(self.ends) - self.skip
            if k < 1:
                raise RuntimeError(f"only {len(self.ends)} steps ran, {self.skip} are skipped")
            return k * batch_size / (self.ends[-1] - self.ends[self.skip - 1])

    return StepTimer


def bench_train_throughput(ctx: Context) -> list[Result]:
    from .. import _env  # noqa: F401
    import keras

    from ..data.tfdata import make_dataset
    from ..models.autoencoder import build_model
    from ..schemas import ModelConfig

    if ctx.quick:
        n_store, batch, steps, skip, reps = 256, 16, 6, 2, 1
    else:
        n_store, batch, steps, skip, reps = 10_000, 128, 30, 5, 3
    store = face_store(ctx.cache, n_store, base=32 if ctx.quick else 256)
    n_used = steps * batch
    idx = np.arange(n_used)
    x_ram = np.asarray(store.images, dtype=np.float32)  # the whole set as float32 in RAM
    x_ram /= 255.0
    keras.utils.set_random_seed(0)
    cfg = ModelConfig.from_preset("case1")
    model = build_model(cfg)
    timer = _step_timer()(skip)
    seed = [0]

    def streaming() -> float:
        seed[0] += 1
        ds = make_dataset(store, idx, batch, shuffle=True, seed=seed[0])
        model.fit(ds, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
        return timer.images_per_second(batch)

    def in_ram() -> float:
        model.fit(x_ram[:n_used], batch_size=batch, epochs=1, verbose=0, shuffle=True,
                  callbacks=[timer])
        return timer.images_per_second(batch)

    ctx.log(f"training: {steps} steps of {batch} per fit ({skip} skipped), {reps} fits each")
    # first fit of each: tracing (excluded)
    streaming()
    in_ram()
    ours: list[float] = []
    base: list[float] = []
    for r in range(reps):
        pair = [(ours, streaming), (base, in_ram)]
        if r % 2:
            pair.reverse()
        for acc, fn in pair:
            acc.append(fn())
    om, bm = median(ours), median(base)
    from .flops import cpu_peak_gflops, forward_flops

    step_flops = 3.0 * forward_flops(model)  # forward + two backward products per image
    achieved = om * step_flops / 1e9
    cpu = cpu_peak_gflops()
    fraction = achieved / cpu["peak_gflops"] if cpu["peak_gflops"] else None
    arithmetic = (f"{step_flops / 1e9:.2f} GFLOP per trained image (3x the layers' forward "
                  f"FLOPs) x {om:.0f} img/s = {achieved:.0f} GFLOP/s")
    if fraction is not None:
        arithmetic += (f" = {fraction:.0%} of the CPU's fp32 peak ({cpu['cores']} cores x "
                       f"{cpu['ghz']:.2f} GHz x {cpu['flops_per_cycle']} FLOP/cycle, "
                       f"{cpu['isa']}: {cpu['peak_gflops']:.0f} GFLOP/s)")
    return [Result(
        "train_throughput", "training throughput, default AE", om, bm, "img/s", ratio=om / bm,
        ratio_def="ours/baseline", budget="ratio >= 0.95 (the pipeline is never the bottleneck)",
        passed=om / bm >= 0.95, quick=ctx.quick,
        notes=f"case1 AE {cfg.image_size}x{cfg.image_size}; {n_store:,}-image uint8 store, "
              f"make_dataset -> fit vs fit(float32 array of the same {n_store:,} images in RAM); "
              f"{steps} steps x {batch} per fit, first {skip} steps of every fit and a whole "
              f"tracing fit excluded; {reps} fits each, interleaved; {arithmetic}",
        details={"ours_img_s": ours, "baseline_img_s": base, "float32_copy_mb": x_ram.nbytes / 2**20,
                 "gflop_per_image": step_flops / 1e9, "achieved_gflops": achieved,
                 "peak_fraction": fraction, "cpu": cpu})]


# ------------------------------------------------------------------------------- 10: peak RSS
def train_rss_child(store_path: str, steps: int, batch: int) -> None:
    """Entry of the training subprocess (``python -m latentexplorer.bench.child train-rss``)."""
    from .. import _env  # noqa: F401
    import keras

    from ..data.store import DatasetStore
    from ..data.tfdata import make_dataset
    from ..models.autoencoder import build_model
    from ..schemas import ModelConfig

    store = DatasetStore.open(store_path)
    train_idx, _ = store.split()
    keras.utils.set_random_seed(0)
    model = build_model(ModelConfig.from_preset("case1", image_size=store.size))
    ds = make_dataset(store, train_idx, batch, shuffle=True, seed=0, repeat=True)
    print("READY", flush=True)
    sys.stdin.readline()  # the parent has taken the baseline RSS
    t = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    print(f"DONE {time.perf_counter() - t:.3f}", flush=True)


def bench_train_rss(ctx: Context) -> list[Result]:
    if ctx.quick:
        n, steps, batch = 1_000, 3, 16
    else:
        n, steps, batch = 200_000, 30, 128
    ctx.log(f"peak RSS: store of {n:,} images, {steps} training steps of {batch}")
    store = face_store(ctx.cache, n, base=32 if ctx.quick else 256)
    f32_mb = store.n * store.size * store.size * 3 * 4 / 2**20
    cmd = [sys.executable, "-m", "latentexplorer.bench.child", "train-rss", str(store.path),
           "--steps", str(steps), "--batch", str(batch)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"training child failed: {line}{proc.stderr.read()[-3000:]}")
        poll = RssPoller(proc.pid, interval=0.02, children=True)
        with poll:
            proc.stdin.write("go\n")
            proc.stdin.flush()
            done = proc.stdout.readline()
            proc.wait(timeout=600)
        if not done.startswith("DONE"):
            raise RuntimeError(f"training child failed: {done}{proc.stderr.read()[-3000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    peak_mb = poll.peak / 2**20
    start_mb = poll.start_rss / 2**20
    return [Result(
        "train_peak_rss", "peak RSS while training", peak_mb, f32_mb, "MB", ratio=peak_mb / f32_mb,
        ratio_def="ours/baseline", budget="<= 15 % of a float32 copy (ratio <= 0.15)",
        passed=peak_mb / f32_mb <= 0.15, quick=ctx.quick,
        notes=f"whole training process (TensorFlow runtime included; anonymous "
              f"{poll.peak_anonymous / 2**20:,.0f} MB + file-backed {poll.peak_file / 2**20:,.0f} MB at "
              f"their peaks), polled every 20 ms during "
              f"{steps} steps of {batch} (default AE) on a {n:,}-image 96x96 store; baseline = size "
              f"of a float32 copy of the images (computed)",
        details={"rss_before_fit_mb": start_mb, "increase_during_fit_mb": peak_mb - start_mb,
                 "peak_anonymous_mb": poll.peak_anonymous / 2**20,
                 "peak_file_backed_mb": poll.peak_file / 2**20,
                 "fit_seconds": float(done.split()[1]), "n_images": n})]


# ------------------------------------------------------------------- 11: precision and XLA
def bench_train_precision(ctx: Context) -> list[Result]:
    """bfloat16 mixed precision and XLA against float32 ``fit``: the same initial weights, the
    same batches (streamed from the store as in training), throughput and the loss after the
    row's steps."""
    from .. import _env  # noqa: F401
    import keras

    from ..data.tfdata import make_dataset
    from ..models.autoencoder import build_model
    from ..models.precision import cpu_has_bf16, dtype_policy
    from ..schemas import ModelConfig

    if ctx.quick:
        n_store, batch, steps, skip, reps = 256, 16, 6, 2, 1
    else:
        n_store, batch, steps, skip, reps = 10_000, 128, 30, 5, 2
    store = face_store(ctx.cache, n_store, base=32 if ctx.quick else 256)
    idx = np.arange(steps * batch)
    cfg = ModelConfig.from_preset("case1")
    timer = _step_timer()(skip)

    def build(precision: str, xla: bool):
        keras.utils.set_random_seed(0)
        with dtype_policy(precision):
            return build_model(cfg, jit_compile=xla)

    variants = {"float32": build("float32", False), "bfloat16": build("bfloat16", False),
                "xla": build("float32", True)}
    initial = variants["float32"].get_weights()
    for model in variants.values():
        model.set_weights(initial)

    def run(name: str) -> tuple[float, float]:
        ds = make_dataset(store, idx, batch, shuffle=False)
        hist = variants[name].fit(ds, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
        return timer.images_per_second(batch), float(hist.history["total_loss"][-1])

    ctx.log(f"precision: {steps} steps of {batch} per fit, float32 / bfloat16 / XLA, {reps} fits each")
    first_loss = {name: run(name)[1] for name in variants}  # tracing fit; same weights, same data
    speed: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(reps):
        order = list(variants) if r % 2 == 0 else list(reversed(variants))
        for name in order:
            speed[name].append(run(name)[0])
    f32, bf16, xla = (median(speed[k]) for k in ("float32", "bfloat16", "xla"))
    loss_diff = abs(first_loss["bfloat16"] - first_loss["float32"]) / first_loss["float32"]
    native = cpu_has_bf16()
    common = (f"case1 AE {cfg.image_size}x{cfg.image_size}, {steps} steps x {batch} per fit from "
              f"a {n_store:,}-image store, first {skip} steps and a tracing fit excluded; {reps} "
              "fits each, interleaved; the same initial weights and batches")
    return [
        Result("train_bf16", "training throughput, bfloat16 mixed precision", bf16, f32, "img/s",
               ratio=bf16 / f32, ratio_def="ours/baseline",
               budget=">= 1.4x float32 on a CPU with AVX512_BF16, loss within 1 %",
               passed=(bf16 / f32 >= 1.4 and loss_diff <= 0.01) if native else None,
               quick=ctx.quick,
               notes=f"{common}; CPU bfloat16 {'native' if native else 'emulated (no budget)'}; "
                     f"loss after the first fit {first_loss['bfloat16']:.1f} vs "
                     f"{first_loss['float32']:.1f} ({loss_diff:.2%})",
               details={"bfloat16_img_s": speed["bfloat16"], "float32_img_s": speed["float32"],
                        "loss_first_fit": first_loss, "loss_relative_difference": loss_diff,
                        "native_bf16": native}),
        Result("train_xla", "training throughput, XLA-compiled train step", xla, f32, "img/s",
               ratio=xla / f32, ratio_def="ours/baseline", budget="report (on by default if >= 1.1x)",
               passed=None, quick=ctx.quick,
               notes=f"{common}; loss after the first fit {first_loss['xla']:.1f}",
               details={"xla_img_s": speed["xla"], "float32_img_s": speed["float32"]}),
    ]
