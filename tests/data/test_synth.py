"""Synthetic face dataset: determinism, chunk independence, factors, image structure, store, CLI.

Images are rendered at 32x32 (and few of them) to keep the file fast on a shared 2-core machine.
"""

import numpy as np
import pytest

from latentexplorer.cli import main
from latentexplorer.data.store import DatasetStore
from latentexplorer.data.synth import (BINARY_FACTORS, FACTOR_NAMES, FACTOR_RANGES, GENERATOR_ID,
                                       draw_factors, generate_faces, render_faces,
                                       write_synthetic_store)
from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.progress import ProgressReporter

SIZE = 32


def test_same_seed_same_bytes_different_seed_different():
    a, fa = generate_faces(6, size=SIZE, seed=1)
    b, fb = generate_faces(6, size=SIZE, seed=1)
    c, fc = generate_faces(6, size=SIZE, seed=2)
    assert a.dtype == np.uint8 and a.shape == (6, SIZE, SIZE, 3)
    assert fa.dtype == np.float32 and fa.shape == (6, len(FACTOR_NAMES))
    assert a.tobytes() == b.tobytes() and np.array_equal(fa, fb)
    assert not np.array_equal(a, c) and not np.array_equal(fa, fc)


@pytest.mark.parametrize("size", [16, 33])
def test_chunks_are_independent(size):
    full, f_full = generate_faces(20, size=size, seed=4)
    part, f_part = generate_faces(10, size=size, seed=4, start=5)
    assert np.array_equal(part, full[5:15])
    assert np.array_equal(f_part, f_full[5:15])
    # rendering a subset of rows also gives the same images (per-image work only)
    assert np.array_equal(render_faces(f_full[[3, 17, 8]], size), full[[3, 17, 8]])


def test_factor_names_ranges_and_binaries():
    f = draw_factors(500, seed=0)
    assert len(FACTOR_NAMES) >= 15 and len(set(FACTOR_NAMES)) == len(FACTOR_NAMES)
    assert {"smile", "glasses", "hair_length", "skin_tone"} <= set(FACTOR_NAMES)
    assert set(FACTOR_RANGES) == set(FACTOR_NAMES)
    for j, name in enumerate(FACTOR_NAMES):
        lo, hi = FACTOR_RANGES[name]
        col = f[:, j]
        assert lo <= col.min() and col.max() <= hi, name
        assert col.std() > 0.05, f"{name} hardly varies"
        if name in BINARY_FACTORS:
            assert set(np.unique(col)) == {-1.0, 1.0}, name


def test_some_factors_correlated_like_real_faces():
    f = draw_factors(500, seed=0)
    r = np.corrcoef(f.T)
    idx = {n: j for j, n in enumerate(FACTOR_NAMES)}
    assert r[idx["smile"], idx["mouth_open"]] > 0.3
    assert r[idx["hair_lightness"], idx["brow_darkness"]] < -0.3
    assert r[idx["skin_tone"], idx["hair_lightness"]] < -0.3


def test_images_vary_and_look_like_a_face_on_a_background():
    imgs, _ = generate_faces(48, size=SIZE, seed=0)
    x = imgs.astype(np.float32)
    assert x.std(axis=0).mean() > 20           # pixels differ substantially between images
    s = SIZE
    centre = x[:, int(0.40 * s):int(0.60 * s), int(0.40 * s):int(0.60 * s)].mean(axis=(1, 2))
    corner = x[:, :s // 8, :s // 8].mean(axis=(1, 2))       # top-left: background
    differs = np.abs(centre - corner).sum(axis=1) > 30
    assert differs.mean() > 0.8
    # the face centre is skin: red channel above blue in (almost) every image
    assert (centre[:, 0] > centre[:, 2]).mean() > 0.9


def test_invalid_arguments_are_reported():
    with pytest.raises(InvalidInputError, match="size"):
        generate_faces(2, size=8)
    with pytest.raises(InvalidInputError, match="seed"):
        generate_faces(2, seed=-1)
    with pytest.raises(InvalidInputError, match="n="):
        write_synthetic_store("unused", n=0)


def test_store_round_trip(tmp_path):
    updates = []
    rep = ProgressReporter(on_update=lambda d, t, m, metrics=None: updates.append((d, t)))
    store = write_synthetic_store(tmp_path / "s", n=12, size=SIZE, seed=3, progress=rep)
    again = DatasetStore.open(tmp_path / "s")
    imgs, fac = generate_faces(12, size=SIZE, seed=3)
    assert again.n == 12 and again.size == SIZE and store.n == 12
    assert np.array_equal(np.asarray(again.images), imgs)
    assert again.attribute_names == FACTOR_NAMES
    assert np.array_equal(again.attributes, fac)
    assert again.filenames[0] == "synth_000000.png" and len(again.filenames) == 12
    assert again.meta["source"] == "synthetic" and again.meta["preset"] == "synthetic"
    assert again.meta["seed"] == 3 and again.meta["generator"] == GENERATOR_ID
    assert updates[-1] == (12, 12)


def test_cancel_leaves_no_store(tmp_path):
    rep = ProgressReporter()
    rep.cancel()
    with pytest.raises(Cancelled):
        write_synthetic_store(tmp_path / "s", n=5, size=SIZE, progress=rep)
    assert not (tmp_path / "s").exists()


def test_cli_synth(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["synth", "--out", str(out), "-n", "7", "--size", str(SIZE), "--seed", "5"]) == 0
    line = capsys.readouterr().out
    assert "7 images" in line and f"{SIZE}x{SIZE}" in line and str(out) in line
    store = DatasetStore.open(out)
    assert store.n == 7 and store.meta["seed"] == 5
    # existing folder without --overwrite, and bad values: one-line error, exit code 2
    assert main(["synth", "--out", str(out), "-n", "7", "--size", str(SIZE)]) == 2
    assert main(["synth", "--out", str(tmp_path / "x"), "-n", "0"]) == 2
    assert main(["synth", "--out", str(tmp_path / "y"), "--size", "8"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "-n/--count: expected an integer from 1" in err
    assert "--size: expected an integer from 16 to 2,048, got 8" in err
    assert main(["synth", "--out", str(out), "-n", "3", "--size", str(SIZE), "--overwrite"]) == 0
    assert DatasetStore.open(out).n == 3
