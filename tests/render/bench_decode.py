"""Benchmark: Decoder.decode_one vs keras predict on the default case1 decoder (96x96, z_dim 256).

Run: python tests/render/bench_decode.py   (not collected by pytest)
"""

import time

import numpy as np

from latentexplorer import _env  # noqa: F401
from latentexplorer.models.autoencoder import build_decoder
from latentexplorer.models.config import ModelConfig
from latentexplorer.render.decode import Decoder


def percentiles(times_s):
    t = np.array(times_s) * 1000
    return f"p50 {np.percentile(t, 50):7.2f} ms  p95 {np.percentile(t, 95):7.2f} ms"


def main(reps=200):
    cfg = ModelConfig.from_preset("case1")
    model = build_decoder(cfg)
    rng = np.random.default_rng(0)
    zs = rng.standard_normal((reps, cfg.z_dim)).astype(np.float32)
    t0 = time.perf_counter()
    dec = Decoder(model)
    print(f"Decoder construction + warm-up: {time.perf_counter() - t0:.2f} s")

    model.predict(zs[:1], verbose=0)
    pred = []
    for z in zs[: reps // 4]:
        t = time.perf_counter()
        model.predict(z[None], verbose=0)
        pred.append(time.perf_counter() - t)
    one = []
    for z in zs:
        t = time.perf_counter()
        dec.decode_one(z)
        one.append(time.perf_counter() - t)
    print(f"predict (1 vector):    {percentiles(pred)}")
    print(f"decode_one (1 vector): {percentiles(one)}")
    print(f"speed-up p50: {np.median(pred) / np.median(one):.1f}x")
    np.testing.assert_array_equal(dec.decode_one(zs[0]), dec.decode(zs[:1])[0])
    for n in (28, 256, 1024):
        z = rng.standard_normal((n, cfg.z_dim)).astype(np.float32)
        dec.decode(z)
        t = time.perf_counter()
        dec.decode(z)
        tb = time.perf_counter() - t
        t = time.perf_counter()
        model.predict(z, verbose=0, batch_size=256)
        tp = time.perf_counter() - t
        print(f"batch {n:5d}: decode {tb:6.3f} s ({tb / n * 1000:.2f} ms/img)  predict {tp:6.3f} s")


if __name__ == "__main__":
    main()
