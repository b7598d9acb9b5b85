"""`latentexplorer train` and `encode` through cli.main on a tiny store."""

import numpy as np

from latentexplorer.cli import main
from latentexplorer.workspace import Workspace

TINY_ARGS = ["--z-dim", "3", "--batch-size", "16", "--epochs", "1", "--lr", "0.003"]


def test_train_resume_and_encode(tiny_store, tmp_path, capsys):
    ws_dir = tmp_path / "ws"
    assert main(["train", "--data", str(tiny_store), "--workspace", str(ws_dir), "--model", "vae",
                 "--fact", "1.0", *TINY_ARGS]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1  total" in out and "img/s" in out
    ws = Workspace.open(ws_dir)
    assert ws.checkpoint_epoch == 1 and ws.model_config.kind == "vae" and ws.model_config.z_dim == 3
    assert ws.model_config.image_size == 16 and ws.model_config.fact == 1.0
    assert ws.training == {"epochs": 1, "batch_size": 16, "lr": 0.003, "seed": 0, "precision": "float32",
                           "jit_compile": False}

    assert main(["train", "--data", str(tiny_store), "--workspace", str(ws_dir), *TINY_ARGS]) == 2
    assert "exists with 1 epoch(s); continue it with --resume" in capsys.readouterr().err
    assert main(["train", "--workspace", str(ws_dir), "--resume", "--epochs", "1"]) == 0
    assert "already at epoch 1" in capsys.readouterr().out

    assert main(["encode", "--workspace", str(ws_dir), "--batch-size", "40"]) == 0
    assert "encode: 64 images" in capsys.readouterr().out
    lat = ws.latents()
    assert lat.z.shape == lat.mu.shape == lat.logvar.shape == (64, 3)
    assert np.isfinite(lat.z).all() and not ws.latents_stale


def test_cli_errors(tmp_path, capsys):
    assert main(["train", "--workspace", str(tmp_path / "ws")]) == 2
    assert "needs --data" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "nope"), "--workspace", str(tmp_path / "ws")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["encode", "--workspace", str(tmp_path / "nothing")]) == 2
    assert "workspace folder not found" in capsys.readouterr().err
