"""Cases 2 and 3: decoding on the GUI path (``Decoder``) vs ``keras.Model.predict``.

The default case1 decoder (96x96, z_dim 256), untrained: the cost does not depend on the
weights. (Folded in from the former ``tests/render/bench_decode.py``.)
"""

from __future__ import annotations

import time

import numpy as np

from .runner import Context, Result, interleaved, median, percentile, speedup

FRAME_60HZ_MS = 1000.0 / 60.0


def bench_decode(ctx: Context) -> list[Result]:
    from .. import _env  # noqa: F401
    from ..models.autoencoder import build_decoder
    from ..schemas import ModelConfig
    from ..models.codec import Decoder

    cfg = ModelConfig.from_preset("case1")
    model = build_decoder(cfg)
    t0 = time.perf_counter()
    dec = Decoder(model)
    construct_s = time.perf_counter() - t0
    calls = 20 if ctx.quick else 200
    rng = np.random.default_rng(0)
    zs = rng.standard_normal((calls, cfg.z_dim)).astype(np.float32)
    model.predict(zs[:1], verbose=0)  # build predict's function once (not timed)
    for z in zs[:3]:
        dec.decode_one(z)
    ctx.log(f"decode_one vs predict: {calls} calls each, interleaved")
    ours: list[float] = []
    base: list[float] = []
    for k, z in enumerate(zs):
        pair = [("o", lambda z=z: dec.decode_one(z)), ("b", lambda z=z: model.predict(z[None], verbose=0))]
        if k % 2:
            pair.reverse()
        for who, fn in pair:
            t = time.perf_counter()
            fn()
            (ours if who == "o" else base).append((time.perf_counter() - t) * 1000)
    np.testing.assert_array_equal(dec.decode_one(zs[0]), dec.decode(zs[:1])[0])
    o50, b50 = median(ours), median(base)
    o95, b95 = percentile(ours, 95), percentile(base, 95)
    size = f"{cfg.image_size}x{cfg.image_size}, z_dim {cfg.z_dim}"
    rows = [
        Result("decode_one_p50", "single z -> image, GUI path (p50)", o50, b50, "ms",
               ratio=speedup(o50, b50), budget=">= 10x faster than predict", passed=b50 / o50 >= 10,
               quick=ctx.quick, notes=f"Decoder.decode_one vs decoder.predict(z[None]); {calls} calls "
               f"each, interleaved; default case1 decoder {size}",
               details={"ours_ms": ours, "baseline_ms": base, "decoder_construction_s": construct_s}),
        Result("decode_one_p95", "single z -> image, GUI path (p95)", o95, b95, "ms",
               ratio=speedup(o95, b95), budget=f"p95 well below one 60 Hz frame ({FRAME_60HZ_MS:.1f} ms)",
               passed=o95 < FRAME_60HZ_MS / 2, quick=ctx.quick,
               notes="same calls as decode_one_p50; 'well below' checked as < half a frame (8.3 ms)"),
    ]

    # ---- 64-image grid
    z64 = rng.standard_normal((64, cfg.z_dim)).astype(np.float32)
    dec.decode(z64)
    model.predict(z64, verbose=0, batch_size=64)
    reps = 3 if ctx.quick else 20
    o, b = interleaved(lambda: dec.decode(z64), lambda: model.predict(z64, verbose=0, batch_size=64),
                       reps)
    o, b = [x * 1000 for x in o], [x * 1000 for x in b]
    om, bm = median(o), median(b)
    rows.append(Result(
        "decode_grid64", "decode a 64-image grid", om, bm, "ms", ratio=speedup(om, bm),
        budget="no slower than predict (ratio >= 1)", passed=om <= bm, quick=ctx.quick,
        notes=f"Decoder.decode(64 z) (uint8 out) vs decoder.predict(64 z, batch_size=64) (float out); "
              f"{reps} runs each, interleaved",
        details={"ours_ms": o, "baseline_ms": b}))
    return rows
