"""Photo import on bad input: every bad file is built here (16-32 px) and its outcome asserted.

Rules proven:
* the import goes on past bad files, lists each one (name + reason, grouped counts in the summary)
  and writes a complete store of the good ones, in file order;
* it refuses (no store, no leftovers) only when nothing is usable, the folder is missing/empty, or
  the attribute file does not fit;
* decision on images smaller than the output: upscaled (LANCZOS) while the crop is at least a
  quarter of the output side, skipped as "too small" below that (icons, tracking pixels).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentexplorer import cli
from latentexplorer.data.prepare import MAX_UPSCALE, load_face, prepare_dataset, read_celeba_attributes
from latentexplorer.data.store import DatasetStore
from latentexplorer.errors import InvalidInputError

SIZE = 16
RED, GREY, WHITE = (230, 20, 20), (128, 128, 128), (255, 255, 255)


# ----------------------------------------------------------------------------------- builders
def _noise_jpeg(side: int = 24, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_rgb16(side: int, rgb16: tuple[int, int, int]) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write these; written by hand)."""
    row = b"\0" + struct.pack(">HHH", *rgb16) * side
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 16, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(row * side)) + _png_chunk(b"IEND", b""))


def _png_bomb() -> bytes:
    """A PNG header claiming 100,000 x 100,000 pixels (decompression-bomb guard)."""
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b""))


def _save(img: Image.Image, path: Path, **kw) -> None:
    img.save(path, **kw)


def _solid(mode: str, value, side: int = 24) -> Image.Image:
    return Image.new(mode, (side, side), value)


# name -> (writer(path), expected reason substring or None when the file must be imported)
def _cases() -> dict:
    jpeg = _noise_jpeg()
    sos = jpeg.find(b"\xff\xda")
    dht = jpeg.find(b"\xff\xc4")
    rgba = np.zeros((24, 24, 4), np.uint8)
    rgba[..., :3] = RED
    rgba[:12, :, 3] = 0  # transparent top half: composited onto white
    rgba[12:, :, 3] = 255
    return {
        # --- good ones, all colour modes
        "a_good.jpg": (lambda p: p.write_bytes(jpeg), None),
        "b_alpha.png": (lambda p: _save(Image.fromarray(rgba, "RGBA"), p), None),
        "c_gray.png": (lambda p: _save(_solid("L", 100), p), None),
        "d_gray_alpha.png": (lambda p: _save(_solid("LA", (100, 255)), p), None),
        "e_cmyk.jpg": (lambda p: _save(_solid("CMYK", (0, 255, 255, 0)), p, quality=95), None),
        "f_gray16.png": (lambda p: _save(Image.fromarray(np.full((24, 24), 32896, np.uint16)), p), None),
        "g_rgb16.png": (lambda p: p.write_bytes(_png_rgb16(24, (65535, 0, 0))), None),
        "h_palette.png": (lambda p: _save(_solid("RGB", RED).convert("P"), p), None),
        "i_palette_transparent.gif": (lambda p: _save(_solid("P", 3), p, transparency=3), None),
        "j_bilevel.png": (lambda p: _save(_solid("1", 1), p), None),
        "k_small_upscaled.png": (lambda p: _save(_solid("RGB", RED, side=SIZE // 2), p), None),
        "l_broken_exif.jpg": (lambda p: _save(_solid("RGB", RED), p, exif=b"Exif\0\0garbage-not-tiff"),
                              None),
        # --- bad ones
        "m_truncated.jpg": (lambda p: p.write_bytes(jpeg[:sos + 10]), "corrupt or truncated image"),
        "n_truncated_half.jpg": (lambda p: p.write_bytes(jpeg[:len(jpeg) // 2]), "corrupt or truncated"),
        "o_corrupt_tables.jpg": (lambda p: p.write_bytes(jpeg[:dht + 4] + b"\0" * 40 + jpeg[dht + 44:]),
                                 "corrupt or truncated"),
        "p_corrupt_header.jpg": (lambda p: p.write_bytes(jpeg[:2] + bytes(range(256)) * 4), "not an image"),
        "q_empty.jpg": (lambda p: p.write_bytes(b""), "empty file"),
        "r_empty.png": (lambda p: p.write_bytes(b""), "empty file"),
        "s_text.jpg": (lambda p: p.write_text("this is not an image\n" * 20), "not an image"),
        "t_html_error_page.png": (lambda p: p.write_text("<html><body>404 Not Found</body></html>"),
                                  "not an image"),
        "u_zeros.webp": (lambda p: p.write_bytes(b"\0" * 2048), "not an image"),
        "v_truncated.png": (lambda p: (_save(_solid("RGB", RED), p),
                                       p.write_bytes(p.read_bytes()[:60])), "corrupt or truncated"),
        "w_bomb.png": (lambda p: p.write_bytes(_png_bomb()), "too many pixels"),
        "x_tracking_pixel.gif": (lambda p: _save(_solid("RGB", RED, side=1), p), "too small"),
        "y_dangling_link.jpg": (lambda p: os.symlink(p.parent / "does-not-exist.jpg", p),
                                "file not found"),
    }


@pytest.fixture
def messy_folder(tmp_path) -> tuple[Path, dict]:
    src = tmp_path / "photos"
    src.mkdir()
    cases = _cases()
    for name, (write, _) in cases.items():
        write(src / name)
    (src / "notes.txt").write_text("not an image extension: ignored")
    (src / "folder.jpg").mkdir()  # a folder with an image extension: ignored, not a file
    (src / ".hidden.jpg").write_bytes(b"")  # dot files are ignored
    return src, {n: reason for n, (_, reason) in cases.items()}


# ----------------------------------------------------------------------------------- the import
def test_import_goes_past_every_bad_file_and_lists_it(messy_folder, tmp_path):
    src, expected = messy_folder
    good = sorted(n for n, r in expected.items() if r is None)
    bad = {n: r for n, r in expected.items() if r is not None}
    report = prepare_dataset(src, tmp_path / "store", preset="center", size=SIZE, workers=1)

    assert report.written == len(good)
    skipped = dict(report.skipped)
    assert sorted(skipped) == sorted(bad)
    for name, reason in bad.items():
        assert reason in skipped[name], (name, skipped[name])
    # the summary counts every skipped file, grouped by reason
    summary = report.summary()
    assert f"skipped {len(bad)} (" in summary and "empty file: 2" in summary

    store = DatasetStore.open(tmp_path / "store")  # complete, in file order
    assert store.n == len(good) and store.filenames == good
    assert store.images.shape == (len(good), SIZE, SIZE, 3) and store.images.dtype == np.uint8
    assert store.meta["skipped"] == len(bad)
    img = {n: np.asarray(store.images[i]) for i, n in enumerate(store.filenames)}
    np.testing.assert_allclose(img["b_alpha.png"][:5], 255, atol=2)  # transparent -> white
    np.testing.assert_allclose(img["b_alpha.png"][-5:], np.broadcast_to(RED, (5, SIZE, 3)), atol=6)
    np.testing.assert_allclose(img["c_gray.png"], 100, atol=2)
    np.testing.assert_allclose(img["f_gray16.png"], 128, atol=2)  # rescaled, not clipped to white
    np.testing.assert_allclose(img["g_rgb16.png"], np.broadcast_to((255, 0, 0), (SIZE, SIZE, 3)), atol=2)
    assert img["e_cmyk.jpg"][..., 0].mean() > 200 and img["e_cmyk.jpg"][..., 1].mean() < 40
    np.testing.assert_allclose(img["k_small_upscaled.png"], np.broadcast_to(RED, (SIZE, SIZE, 3)), atol=2)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_cli_prepare_lists_skipped_files_and_exits_zero(messy_folder, tmp_path, capsys):
    src, expected = messy_folder
    n_bad = sum(r is not None for r in expected.values())
    rc = cli.main(["prepare", str(src), "--out", str(tmp_path / "store"), "--preset", "center",
                   "--size", str(SIZE), "--workers", "1"])
    out, err = capsys.readouterr()
    assert rc == 0
    assert f"skipped {n_bad} (" in out
    for name, reason in expected.items():
        if reason is not None:
            assert f"skipped {name}: " in err and reason in err


def test_only_bad_files_refuses_and_leaves_nothing(tmp_path):
    src = tmp_path / "photos"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"")
    (src / "b.jpg").write_text("text")
    (src / "c.png").write_bytes(_noise_jpeg()[:100])
    with pytest.raises(InvalidInputError, match=r"no usable images among 3 files \(.*empty file: 1"):
        prepare_dataset(src, tmp_path / "store", preset="center", size=SIZE, workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]  # no store, no .partial


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path, orientation):
    """A marker in the upright image's top-left corner ends up top-left whatever the EXIF tag."""
    upright = np.full((24, 24, 3), GREY, np.uint8)
    upright[:8, :8] = RED
    inverse = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
               4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
               6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_270}
    stored = Image.fromarray(upright)
    if orientation in inverse:
        stored = stored.transpose(inverse[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"rot{orientation}.png"
    stored.save(path, exif=exif)
    out = load_face(path, "center", SIZE)
    np.testing.assert_allclose(out[:4, :4], np.broadcast_to(RED, (4, 4, 3)), atol=8)
    np.testing.assert_allclose(out[-6:, -6:], np.broadcast_to(GREY, (6, 6, 3)), atol=8)


def test_exif_rotated_portrait_passes_the_celeba_aspect_check(tmp_path):
    """Stored 109x89 (landscape) with orientation 6 is an upright 89x109 CelebA half-size image."""
    upright = np.full((109, 89, 3), GREY, np.uint8)
    upright[:20] = (0, 0, 255)        # cropped away by the CelebA box (top 20 rows at half size)
    upright[60:80, 10:30] = RED
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "portrait.jpg"
    Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90).save(path, exif=exif, quality=95)
    out = load_face(path, "celeba", 32)
    assert out[:2].mean(axis=(0, 1))[2] < 160  # no blue band: the crop was taken on the upright image
    # red square: x 10..30 of 89 -> 3.6..10.8; y 60..80 -> (40..60 of 89) -> 14.4..21.6 of 32
    np.testing.assert_allclose(out[16:20, 5:9], np.broadcast_to(RED, (4, 4, 3)), atol=30)


def test_small_images_are_upscaled_tiny_ones_skipped(tmp_path):
    min_side = -(-96 // MAX_UPSCALE)
    ok = tmp_path / "ok.png"
    _save(_solid("RGB", RED, side=min_side), ok)
    assert load_face(ok, "center", 96).shape == (96, 96, 3)  # 4x enlarged: kept
    tiny = tmp_path / "icon.png"
    _save(_solid("RGB", RED, side=min_side - 1), tiny)
    with pytest.raises(InvalidInputError, match=rf"icon.png: too small \(crop under {min_side} px"):
        load_face(tiny, "center", 96)


def _root_can_read(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
        return True
    except PermissionError:
        return False


def test_unreadable_file_is_skipped_with_permission_denied(tmp_path):
    src = tmp_path / "photos"
    src.mkdir()
    _save(_solid("RGB", RED), src / "a.png")
    _save(_solid("RGB", RED), src / "b_locked.png")
    os.chmod(src / "b_locked.png", 0)
    try:
        if _root_can_read(src / "b_locked.png"):
            pytest.skip("running as root: chmod 000 does not stop reads (see the monkeypatched test)")
        report = prepare_dataset(src, tmp_path / "store", preset="center", size=SIZE, workers=1)
    finally:
        os.chmod(src / "b_locked.png", 0o644)
    assert report.written == 1
    assert report.skipped == [("b_locked.png", "unreadable (permission denied)")]


def test_permission_error_while_reading_is_skipped(tmp_path, monkeypatch):
    """Same path without needing a non-root user: the open itself raises PermissionError."""
    import PIL.Image

    src = tmp_path / "photos"
    src.mkdir()
    _save(_solid("RGB", RED), src / "a.png")
    _save(_solid("RGB", RED), src / "b_locked.png")
    real_open = PIL.Image.open

    def guarded(fp, *a, **k):
        if str(fp).endswith("b_locked.png"):
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *a, **k)

    monkeypatch.setattr(PIL.Image, "open", guarded)
    report = prepare_dataset(src, tmp_path / "store", preset="center", size=SIZE, workers=1)
    assert report.written == 1
    assert report.skipped == [("b_locked.png", "unreadable (permission denied)")]


@pytest.mark.parametrize("setup,match", [
    (lambda d: None, "folder not found"),
    (lambda d: d.mkdir(), "no image files"),
    (lambda d: (d.mkdir(), (d / "readme.txt").write_text("x")), "no image files"),
    (lambda d: (d.mkdir(), (d / "inner").mkdir()), "it has 1 subfolders"),
    (lambda d: d.write_text("a file, not a folder"), "not a folder"),
], ids=["missing", "empty", "no-images", "only-subfolders", "a-file"])
def test_missing_or_empty_folder_is_refused(tmp_path, setup, match, capsys):
    src = tmp_path / "photos"
    setup(src)
    with pytest.raises(InvalidInputError, match=match):
        prepare_dataset(src, tmp_path / "store", preset="center", size=SIZE, workers=1)
    assert not (tmp_path / "store").exists()
    rc = cli.main(["prepare", str(src), "--out", str(tmp_path / "store"), "--size", str(SIZE)])
    assert rc == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and match in line and str(src) in line


# ----------------------------------------------------------------------------------- attributes
NAMES = ["Smiling", "Male", "Eyeglasses"]


def _attr_text(rows: list[str], count: int | None = None, names=NAMES, newline="\n") -> str:
    lines = [str(len(rows) if count is None else count), " ".join(names), *rows]
    return newline.join(lines) + newline


@pytest.fixture
def three_photos(tmp_path) -> Path:
    src = tmp_path / "photos"
    src.mkdir()
    for i, c in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
        _save(_solid("RGB", c), src / f"{i:06d}.jpg", quality=95)
    (src / "000003.jpg").write_bytes(b"")  # a bad image: its attribute row must be dropped too
    return src


GOOD_ROWS = ["000000.jpg 1 -1 1", "000001.jpg -1 1 -1", "000002.jpg 1 1 -1", "000003.jpg -1 -1 -1"]


def test_attributes_with_extra_rows_and_crlf_are_fine(three_photos, tmp_path):
    attr = tmp_path / "list_attr_celeba.txt"
    attr.write_text(_attr_text(GOOD_ROWS + ["999999.jpg 1 1 1", "888888.jpg -1 -1 -1"], newline="\r\n"),
                    newline="")
    report = prepare_dataset(three_photos, tmp_path / "store", preset="center", size=SIZE,
                             attributes=attr, workers=1)
    assert report.written == 3 and report.skipped == [("000003.jpg", "empty file")]
    store = DatasetStore.open(tmp_path / "store")
    assert store.attribute_names == NAMES
    np.testing.assert_array_equal(store.attributes, [[1, -1, 1], [-1, 1, -1], [1, 1, -1]])


@pytest.mark.parametrize("text,match", [
    (_attr_text(GOOD_ROWS[:2] + GOOD_ROWS[3:]), r"no attribute row for 1 of 4 images \(000002.jpg\)"),
    (_attr_text(GOOD_ROWS[:1] + ["000001.jpg -1 1"] + GOOD_ROWS[2:]),
     r"line 4: 3 columns, expected 4"),
    (_attr_text(GOOD_ROWS[:1] + ["000001.jpg -1 1 -1 1"] + GOOD_ROWS[2:]), r"line 4: 5 columns"),
    (_attr_text(GOOD_ROWS[:2] + ["000002.jpg 1 0 -1"] + GOOD_ROWS[3:]),
     r"line 5: value '0' for Male, expected 1 or -1"),
    (_attr_text(GOOD_ROWS[:2] + ["000002.jpg 1 yes -1"] + GOOD_ROWS[3:]), r"value 'yes' for Male"),
    (_attr_text(GOOD_ROWS[:2] + ["000002.jpg 1 nan -1"] + GOOD_ROWS[3:]), r"value 'nan' for Male"),
    (_attr_text(GOOD_ROWS, count=10), r"line 1: says 10 rows but the file has 4"),
    (_attr_text(GOOD_ROWS + GOOD_ROWS[:1]), r"000000.jpg appears twice"),
    ("", r"expected a count line and an attribute-name line"),
    ("four\n" + " ".join(NAMES) + "\n", r"line 1: 'four' is not the row count"),
], ids=["missing-row", "too-few-columns", "too-many-columns", "zero", "word", "nan", "count",
        "duplicate", "empty-file", "no-count"])
def test_bad_attribute_file_is_refused_with_file_and_line(three_photos, tmp_path, text, match, capsys):
    attr = tmp_path / "list_attr_celeba.txt"
    attr.write_text(text)
    with pytest.raises(InvalidInputError, match=match) as info:
        prepare_dataset(three_photos, tmp_path / "store", preset="center", size=SIZE, attributes=attr,
                        workers=1)
    assert str(attr) in str(info.value)
    assert not (tmp_path / "store").exists()
    rc = cli.main(["prepare", str(three_photos), "--out", str(tmp_path / "store"), "--preset", "center",
                   "--size", str(SIZE), "--attributes", str(attr)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_attribute_file_missing_or_binary(tmp_path, three_photos):
    with pytest.raises(InvalidInputError, match="attribute file not found"):
        read_celeba_attributes(tmp_path / "nope.txt")
    binary = tmp_path / "attrs.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(InvalidInputError, match="not a text file"):
        read_celeba_attributes(binary)
