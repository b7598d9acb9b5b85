"""Mixed-precision training keeps float32 losses and latents; XLA and the CLI options; the VAE's
train_step under MirroredStrategy on two logical CPU devices reduces like one device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from tiny_models import make_store, tiny_config

from latentexplorer.errors import InvalidInputError
from latentexplorer.models.precision import cpu_has_bf16, dtype_policy, resolve_precision
from latentexplorer.workspace import Workspace
from latentexplorer.workspace.training import train


def test_precision_names_and_cpu_detection():
    assert cpu_has_bf16("processor: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n")
    assert cpu_has_bf16("flags\t: fpu amx_bf16\n")
    assert not cpu_has_bf16("flags\t: fpu sse avx2 avx512f\n")
    assert resolve_precision("bfloat16") == "bfloat16"
    assert resolve_precision("auto") in ("float32", "bfloat16", "float16")
    with pytest.raises(InvalidInputError, match="expected one of auto, float32, bfloat16, float16"):
        resolve_precision("int8")


def _trained(tmp_path, kind, **training):
    store = tmp_path / "store"
    if not store.exists():
        make_store(store, n=96)
    name = "_".join(f"{k}-{v}" for k, v in training.items())
    ws = Workspace.create(tmp_path / f"ws_{kind}_{name}", store, tiny_config(kind),
                          training={"batch_size": 16, "lr": 3e-3, "epochs": 1, "seed": 3, **training})
    history = train(ws, 1)
    return ws, history[-1]


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_bfloat16_keeps_float32_losses_and_latents(tmp_path, kind):
    import keras

    ws16, row16 = _trained(tmp_path, kind, precision="bfloat16")
    ws32, row32 = _trained(tmp_path, kind)
    # the same seed and data: the loss after one epoch agrees to within the rounding of bfloat16
    # arithmetic (a bfloat16 sum of the per-image loss would be off by steps of 2-32)
    assert row16["total_loss"] == pytest.approx(row32["total_loss"], rel=0.01)
    assert keras.config.dtype_policy().name == "float32"  # training restored the global policy

    model = ws16.load_model()
    with dtype_policy("bfloat16"):
        model = ws16.load_model()
    conv = model.encoder.get_layer("enc_conv0")
    assert conv.compute_dtype == "bfloat16" and conv.variable_dtype == "float32"
    x = np.asarray(ws16.dataset().images[:8], dtype=np.float32) / 255.0
    total, reco, kl = model.compute_losses(x, training=False, sample=False)
    assert all(t.dtype == "float32" for t in (total, reco, kl))
    assert model.decoder(model.encoder(x) if kind == "ae" else model.encoder(x)[0]).dtype == "float32"

    ws16.encode()
    z = ws16.latents().z
    assert z.dtype == np.float32 and np.isfinite(z).all()
    assert json.loads((ws16.path / "config.json").read_text())["training"]["precision"] == "bfloat16"


def test_cli_precision_xla_and_strategy_options(tmp_path, capsys):
    from latentexplorer.cli import main

    store = make_store(tmp_path / "store", n=64)
    rc = main(["train", "--data", str(store), "--workspace", str(tmp_path / "ws"), "--z-dim", "4",
               "--epochs", "1", "--batch-size", "16", "--precision", "bfloat16", "--xla",
               "--strategy", "mirrored"])
    out = capsys.readouterr().out
    assert rc == 0 and "bfloat16, XLA" in out
    training = Workspace.open(tmp_path / "ws").training
    assert training["precision"] == "bfloat16" and training["jit_compile"] is True
    # resuming may change both (the weights are float32)
    rc = main(["train", "--workspace", str(tmp_path / "ws"), "--resume", "--epochs", "2",
               "--precision", "float32", "--no-xla"])
    assert rc == 0 and Workspace.open(tmp_path / "ws").checkpoint_epoch == 2
    assert Workspace.open(tmp_path / "ws").training["precision"] == "float32"
    env_before = os.environ.pop("TF_CONFIG", None)
    try:
        rc = main(["train", "--workspace", str(tmp_path / "ws"), "--resume", "--epochs", "3",
                   "--strategy", "multiworker"])
    finally:
        if env_before is not None:
            os.environ["TF_CONFIG"] = env_before
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and "TF_CONFIG is not set" in err[-1]


MIRRORED = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    sys.path.insert(0, sys.argv[1])
    from tiny_models import face_like_images, tiny_config
    from latentexplorer.models.autoencoder import build_model

    x = face_like_images(32, 16, seed=1)
    result = {}
    for name, strategy in (("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                           ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
        keras.utils.set_random_seed(7)
        with strategy.scope():
            model = build_model(tiny_config("vae", eps_factor=0.0))
            # plain SGD: an update proportional to the gradient shows a wrong reduction (Adam's
            # first step would hide a factor of 2)
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-4))
        ds = tf.data.Dataset.from_tensor_slices(x).batch(32)
        hist = model.fit(ds, epochs=1, verbose=0, shuffle=False)
        result[name] = {"replicas": strategy.num_replicas_in_sync,
                        "loss": {k: float(v[-1]) for k, v in hist.history.items()},
                        "weights": float(sum(np.abs(w).sum() for w in model.get_weights())),
                        "first": model.get_weights()[0].ravel()[:50].tolist()}
    print(json.dumps(result))
""")


def test_vae_train_step_under_mirrored_strategy_matches_one_device(tmp_path):
    """Two logical CPU devices, the same global batch of 32: losses and the SGD update agree with
    one device (eps_factor 0 makes the VAE's sampling deterministic)."""
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED)
    tests_models = Path(__file__).parent
    run = subprocess.run([sys.executable, str(script), str(tests_models)], capture_output=True,
                         text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    one, mirrored = result["one"], result["mirrored"]
    assert one["replicas"] == 1 and mirrored["replicas"] == 2
    for key in ("total_loss", "reco_loss", "kl_loss"):
        assert mirrored["loss"][key] == pytest.approx(one["loss"][key], rel=1e-4, abs=1e-3), key
    np.testing.assert_allclose(mirrored["first"], one["first"], rtol=1e-4, atol=1e-6)
    assert mirrored["weights"] == pytest.approx(one["weights"], rel=1e-5)
