"""Sharpening, grids, PNG + JSON sidecars and re-decoding."""

import json

import numpy as np
import pytest
from PIL import Image

from latentexplorer.errors import InvalidInputError
from latentexplorer.models.codec import Decoder
from latentexplorer.render.images import (grid_shape, load_sidecar, make_grid, redecode_sidecar,
                                          render_sidecar_grid, save_grid, sharpen, weights_fingerprint)

SIZE, Z_DIM = 16, 8  # the tiny models of conftest.py


def _images(n=6, seed=0):
    """Soft discs in mid-grey tones: sharpening has edges to work on and nothing clips."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    cx, cy = rng.uniform(5, 11, (2, n, 1, 1))
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    soft = 1 / (1 + np.exp(d - 5.0))
    colour = rng.uniform(60, 190, (n, 1, 1, 3))
    return (100 + (colour - 100) * soft[..., None]).astype(np.uint8)


def _edge_energy(img):
    g = img.astype(float).mean(axis=-1)
    return float(np.abs(np.diff(g, axis=0)).sum() + np.abs(np.diff(g, axis=1)).sum())


def test_sharpen_semantics():
    imgs = _images()
    np.testing.assert_array_equal(sharpen(imgs, 1), imgs)
    sharp = sharpen(imgs, 5)
    soft = sharpen(imgs, 0)
    assert sharp.shape == imgs.shape and sharp.dtype == np.uint8
    assert _edge_energy(sharp[0]) > _edge_energy(imgs[0]) > _edge_energy(soft[0])
    assert sharpen(imgs[0], 3).shape == imgs[0].shape
    with pytest.raises(InvalidInputError, match="sharpen"):
        sharpen(imgs, -1)


def test_grid_layout_scale_and_labels():
    imgs = _images(5)
    g = make_grid(imgs, rows=2, cols=3, pad=2)
    assert isinstance(g, Image.Image) and g.size == (3 * (SIZE + 2) + 2, 2 * (SIZE + 2) + 2)
    arr = np.asarray(g)
    np.testing.assert_array_equal(arr[2:2 + SIZE, 2 + (SIZE + 2):2 + (SIZE + 2) + SIZE], imgs[1])
    np.testing.assert_array_equal(arr[2 + SIZE + 2:2 + 2 * SIZE + 2, 2:2 + SIZE], imgs[3])
    assert (arr[-SIZE - 2:-2, -SIZE - 2:-2] == 255).all()  # 6th tile empty
    big = make_grid(imgs, rows=1, cols=5, pad=0, scale=3)
    assert big.size == (5 * SIZE * 3, SIZE * 3)
    labelled = make_grid(imgs, cols=5, labels=[f"#{i}" for i in range(5)])
    assert labelled.size[1] > make_grid(imgs, cols=5).size[1]
    assert grid_shape(28, cols=7) == (4, 7) and grid_shape(10) == (3, 4)
    with pytest.raises(InvalidInputError, match="cannot hold"):
        make_grid(imgs, rows=2, cols=2)
    with pytest.raises(InvalidInputError, match="labels"):
        make_grid(imgs, labels=["a"])


@pytest.fixture(scope="module")
def decoder(decoder_factory):
    return Decoder(decoder_factory(3))


def _write(tmp_path, decoder, sharpen_factor=0, name="grid.png"):
    z = np.random.default_rng(1).standard_normal((6, Z_DIM)).astype(np.float32)
    images = decoder.decode(z)
    fp = weights_fingerprint(decoder.model)
    path = tmp_path / "out" / name
    sidecar = save_grid(path, images, z, generator="ellipse",
                        settings={"n_components": 4, "sigma_level": 2.35, "fact": 0.7}, seed=11,
                        fingerprint=fp, scores={"summary": {"closeness_mean": 0.5}}, cols=3,
                        sharpen=sharpen_factor, extra={"workspace": "/ws"})
    return path, sidecar, z, images, fp


def test_save_grid_writes_png_and_complete_sidecar(tmp_path, decoder):
    path, sidecar, z, images, fp = _write(tmp_path, decoder)
    assert sidecar == path.with_suffix(".json") and path.is_file()
    assert not list(path.parent.glob("*.partial"))
    data = json.loads(sidecar.read_text())
    for key in ("format", "created", "generator", "settings", "seed", "fingerprint", "scores", "z", "rows",
                "cols", "sharpen", "n", "z_dim"):
        assert key in data
    assert data["workspace"] == "/ws" and data["generator"] == "ellipse" and data["seed"] == 11
    rec = load_sidecar(sidecar)
    np.testing.assert_array_equal(rec.z, z)  # float32 values survive JSON exactly
    assert (rec.rows, rec.cols, rec.fingerprint, rec.extra["workspace"]) == (2, 3, fp, "/ws")
    np.testing.assert_array_equal(np.asarray(Image.open(path)), np.asarray(make_grid(images, 2, 3)))
    assert load_sidecar(path).n == 6  # the .png path finds its sidecar


@pytest.mark.parametrize("factor", [0, 4])
def test_redecode_reproduces_the_same_grid(tmp_path, decoder, factor):
    path, sidecar, z, images, fp = _write(tmp_path, decoder, sharpen_factor=factor)
    again = redecode_sidecar(sidecar, decoder, fp)
    expected = images if factor == 0 else sharpen(images, factor)
    np.testing.assert_array_equal(again, expected)
    np.testing.assert_array_equal(np.asarray(render_sidecar_grid(sidecar, decoder.model, fp)),
                                  np.asarray(Image.open(path)))


def test_redecode_refuses_another_decoder(tmp_path, decoder, decoder_factory):
    _, sidecar, *_ = _write(tmp_path, decoder)
    other = decoder_factory(4)
    other_fp = weights_fingerprint(other)
    assert other_fp != weights_fingerprint(decoder.model)
    with pytest.raises(InvalidInputError, match="decoder"):
        redecode_sidecar(sidecar, other, other_fp)


def test_fingerprint_stable_and_sensitive(decoder_factory):
    a, b = decoder_factory(5), decoder_factory(5)
    assert weights_fingerprint(a) == weights_fingerprint(b)
    assert len(weights_fingerprint(a)) == 16
    w = a.get_weights()
    w[0] = w[0] + 1e-3
    a.set_weights(w)
    assert weights_fingerprint(a) != weights_fingerprint(b)


@pytest.mark.parametrize("mutate,match", [
    (lambda d: d.pop("fingerprint"), "missing"),
    (lambda d: d.update(format="other/9"), "format"),
    (lambda d: d.update(z=d["z"][:-1]), "must be 6 lists of 8 numbers"),
    (lambda d: d.update(cols=1), "cannot hold"),
    (lambda d: d.update(z=[[1.0, "x"]] * d["n"]), "z"),
])
def test_bad_sidecars_are_rejected(tmp_path, decoder, mutate, match):
    _, sidecar, *_ = _write(tmp_path, decoder)
    data = json.loads(sidecar.read_text())
    mutate(data)
    sidecar.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError, match=match):
        load_sidecar(sidecar)


def test_save_grid_validation(tmp_path, decoder):
    imgs = _images(2)
    z = np.zeros((2, Z_DIM), np.float32)
    kw = dict(generator="uniform", settings={"b": 1}, seed=0, fingerprint="abcd")
    with pytest.raises(InvalidInputError, match="png"):
        save_grid(tmp_path / "g.jpg", imgs, z, **kw)
    with pytest.raises(InvalidInputError, match="2 images"):
        save_grid(tmp_path / "g.png", imgs, z[:1], **kw)
    with pytest.raises(InvalidInputError, match="fingerprint"):
        save_grid(tmp_path / "g.png", imgs, z, **{**kw, "fingerprint": ""})
    assert not list(tmp_path.iterdir())
