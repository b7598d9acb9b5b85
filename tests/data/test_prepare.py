"""Photo import: crop geometry, colour modes, bad files, attributes, workers, CLI, real data."""

import argparse

import numpy as np
import pytest
from PIL import Image

from latentexplorer.commands import prepare as prepare_cmd
from latentexplorer.data.prepare import (celeba_crop_box, center_crop_box, load_face, prepare_dataset,
                                         read_celeba_attributes)
from latentexplorer.data.store import DatasetStore
from latentexplorer.errors import Cancelled, InvalidInputError
from latentexplorer.progress import ProgressReporter

GREY, RED, BLUE, GREEN = (128, 128, 128), (255, 0, 0), (0, 0, 255), (0, 255, 0)


def _celeba_like(scale=1.0):
    """178x218 (scaled) grey image: blue top 40 rows (cropped away), red square x 40..80, y 120..160."""
    w, h = round(178 * scale), round(218 * scale)
    a = np.full((h, w, 3), GREY, np.uint8)
    a[:round(40 * scale)] = BLUE
    a[round(120 * scale):round(160 * scale), round(40 * scale):round(80 * scale)] = RED
    return Image.fromarray(a)


def _assert_celeba_marker(out):
    # red square -> crop x 40..80, y 80..120 of 178 -> output x 21.6..43.1, y 43.1..64.7 of 96
    assert out.shape == (96, 96, 3) and out.dtype == np.uint8
    np.testing.assert_allclose(out[46:62, 24:41], np.broadcast_to(RED, (16, 17, 3)), atol=12)
    np.testing.assert_allclose(out[46:62, 48:90], np.broadcast_to(GREY, (16, 42, 3)), atol=12)
    # nothing of the blue band above the box
    np.testing.assert_allclose(out[:3], np.broadcast_to(GREY, (3, 96, 3)), atol=3)


def _tiny(path, value, size=(89, 109)):
    Image.fromarray(np.full(size[::-1] + (3,), value, np.uint8)).save(path)


def test_crop_boxes():
    assert celeba_crop_box(178, 218) == (0, 40, 178, 218)
    assert celeba_crop_box(89, 109) == (0, 20, 89, 109)
    assert celeba_crop_box(356, 436) == (0, 80, 356, 436)
    with pytest.raises(InvalidInputError, match="aspect"):
        celeba_crop_box(200, 200)
    assert center_crop_box(160, 100) == (30, 0, 130, 100)
    assert center_crop_box(100, 161) == (0, 30, 100, 130)
    assert center_crop_box(50, 50) == (0, 0, 50, 50)


@pytest.mark.parametrize("scale,fmt", [(1.0, "png"), (0.5, "png"), (10.0, "jpg")])
def test_celeba_geometry(tmp_path, scale, fmt):
    # 10x as JPEG goes through libjpeg's reduced-size decoding (draft)
    path = tmp_path / f"face.{fmt}"
    _celeba_like(scale).save(path, quality=95)
    _assert_celeba_marker(load_face(path, "celeba", 96))


def test_celeba_geometry_follows_exif_orientation(tmp_path):
    path = tmp_path / "rotated.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": stored counter-clockwise, 218x178
    _celeba_like().transpose(Image.Transpose.ROTATE_90).save(path, exif=exif)
    _assert_celeba_marker(load_face(path, "celeba", 96))


@pytest.mark.parametrize("w,h", [(160, 100), (100, 160)])
def test_center_geometry(tmp_path, w, h):
    a = np.full((h, w, 3), GREEN, np.uint8)  # margins outside the centre square
    x0, y0 = (w - 100) // 2, (h - 100) // 2
    a[y0:y0 + 100, x0:x0 + 100] = GREY
    a[y0 + 10:y0 + 30, x0 + 10:x0 + 30] = RED  # -> output 9.6..28.8 of 96
    Image.fromarray(a).save(tmp_path / "c.png")
    out = load_face(tmp_path / "c.png", "center", 96)
    np.testing.assert_allclose(out[12:27, 12:27], np.broadcast_to(RED, (15, 15, 3)), atol=12)
    np.testing.assert_allclose(out[40:, 40:], np.broadcast_to(GREY, (56, 56, 3)), atol=12)
    for edge in (out[0], out[-1], out[:, 0], out[:, -1]):
        assert edge[:, 1].max() < 160  # no green margin


def _mode_images():
    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[:, :20] = RED
    rgb[:, 20:] = (0, 0, 200)
    rgba = np.dstack([rgb, np.full((40, 40), 255, np.uint8)])
    rgba[:20, :, 3] = 0  # transparent top half -> white
    return {
        "L": Image.fromarray(np.full((40, 40), 100, np.uint8)),
        "1": Image.fromarray(np.ones((40, 40), bool)),
        "P": Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4),
        "CMYK": Image.fromarray(rgb).convert("CMYK"),
        "RGBA": Image.fromarray(rgba),
        "LA": Image.fromarray(np.full((40, 40), 100, np.uint8)).convert("LA"),
        "I;16": Image.fromarray(np.full((40, 40), 32896, np.uint16)),  # mid grey in 16 bits
    }


@pytest.mark.parametrize("mode", list(_mode_images()))
def test_colour_modes_give_rgb_uint8(tmp_path, mode):
    img = _mode_images()[mode]
    path = tmp_path / ("x.jpg" if mode == "CMYK" else "x.png")
    img.save(path, quality=95)
    out = load_face(path, "center", 32)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    if mode in ("L", "LA", "I;16"):
        expected = 100 if mode != "I;16" else 128
        np.testing.assert_allclose(out, expected, atol=2)
    elif mode == "1":
        assert out.min() == 255
    elif mode == "RGBA":
        np.testing.assert_allclose(out[:12], 255, atol=2)  # composited on white
        np.testing.assert_allclose(out[20:, :12], np.broadcast_to(RED, (12, 12, 3)), atol=4)
    else:  # P, CMYK keep their colours
        np.testing.assert_allclose(out[:, :12], np.broadcast_to(RED, (32, 12, 3)), atol=12)


def _folder_with_bad_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        _tiny(src / f"{i:06d}.png", 40 * i)
    _celeba_like(0.5).save(src / "good.jpg", quality=90)
    data = (src / "good.jpg").read_bytes()
    (src / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (src / "corrupt.jpg").write_bytes(data[:20] + bytes(range(256)) * 8)
    (src / "empty.jpg").write_bytes(b"")
    (src / "text.jpg").write_text("this is not an image\n")
    (src / "notes.txt").write_text("ignored: not an image extension")
    (src / "sub").mkdir()
    return src


def test_prepare_skips_bad_files_and_writes_the_rest(tmp_path):
    src = _folder_with_bad_files(tmp_path)
    updates = []
    rep = prepare_dataset(src, tmp_path / "out", preset="celeba", size=32, workers=1,
                          progress=ProgressReporter(lambda d, t, m, metrics=None: updates.append((d, t))))
    assert rep.written == 6
    reasons = dict(rep.skipped)
    assert set(reasons) == {"corrupt.jpg", "empty.jpg", "text.jpg", "truncated.jpg"}
    assert reasons["empty.jpg"] == "empty file"
    assert reasons["text.jpg"].startswith("not an image")
    assert reasons["truncated.jpg"].startswith("corrupt or truncated")
    assert "skipped 4" in rep.summary() and "empty file: 1" in rep.summary()
    assert updates[-1] == (10, 10)
    s = DatasetStore.open(tmp_path / "out")
    assert s.filenames == [f"{i:06d}.png" for i in range(5)] + ["good.jpg"]  # sorted, bad ones out
    for i, name in enumerate(s.filenames):
        np.testing.assert_array_equal(s.images[i], load_face(src / name, "celeba", 32))
    assert s.meta["source"] == str(src.resolve()) and s.meta["preset"] == "celeba" and s.meta["size"] == 32
    assert s.meta["attributes_file"] is None


def test_prepare_refuses_missing_empty_or_useless_folder(tmp_path):
    with pytest.raises(InvalidInputError, match="not found"):
        prepare_dataset(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="no image files"):
        prepare_dataset(tmp_path / "empty", tmp_path / "out")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"")
    (bad / "b.png").write_text("text")
    msg = r"no usable images among 2 files \(empty file: 1, not an image \(unrecognised format\): 1\)"
    with pytest.raises(InvalidInputError, match=msg):
        prepare_dataset(bad, tmp_path / "out", workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "empty"]


def test_prepare_limit_and_existing_output(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in (3, 1, 2, 0):
        _tiny(src / f"{i}.png", 50 * i)
    rep = prepare_dataset(src, tmp_path / "out", size=16, limit=2, workers=1)
    assert rep.written == 2 and DatasetStore.open(tmp_path / "out").filenames == ["0.png", "1.png"]
    with pytest.raises(InvalidInputError, match="already exists"):
        prepare_dataset(src, tmp_path / "out", size=16, workers=1)
    prepare_dataset(src, tmp_path / "out", size=16, workers=1, overwrite=True)
    assert DatasetStore.open(tmp_path / "out").n == 4
    for kw in ({"limit": 0}, {"workers": 0}, {"size": 4}, {"preset": "square"}):
        with pytest.raises(InvalidInputError, match=list(kw)[0]):
            prepare_dataset(src, tmp_path / "x", **kw)


def test_cancel_leaves_no_store(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _tiny(src / "a.png", 1)
    rep = ProgressReporter()
    rep.cancel()
    with pytest.raises(Cancelled):
        prepare_dataset(src, tmp_path / "out", workers=1, progress=rep)
    assert not (tmp_path / "out").exists()


def _attr_file(path, rows, names=("Smiling", "Male"), count=None, extra=""):
    lines = [str(len(rows) if count is None else count), " ".join(names)]
    lines += [f"{f} " + " ".join(f"{v:2d}" for v in vals) for f, vals in rows]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def test_attributes_follow_written_images(tmp_path):
    src = _folder_with_bad_files(tmp_path)
    files = [f"{i:06d}.png" for i in range(5)] + ["good.jpg", "corrupt.jpg", "empty.jpg", "text.jpg",
                                                   "truncated.jpg", "not_imported.jpg"]
    rows = [(f, (1 if i % 2 else -1, 1 if i % 3 else -1)) for i, f in enumerate(files)]
    attr = _attr_file(tmp_path / "list_attr_celeba.txt", rows)
    prepare_dataset(src, tmp_path / "out", size=16, workers=1, attributes=attr)
    s = DatasetStore.open(tmp_path / "out")
    expected = {f: v for f, v in rows}
    assert s.attribute_names == ["Smiling", "Male"]
    np.testing.assert_array_equal(s.attributes, np.array([expected[f] for f in s.filenames], np.float32))
    assert s.meta["attributes_file"] == str(attr.resolve())
    # an imported image without a row: refuse, say how many
    _attr_file(attr, rows[1:])
    with pytest.raises(InvalidInputError, match=r"no attribute row for 1 of 10 images \(000000.png\)"):
        prepare_dataset(src, tmp_path / "out2", size=16, workers=1, attributes=attr)
    assert not (tmp_path / "out2").exists()


def test_read_attributes_and_its_errors(tmp_path):
    p = _attr_file(tmp_path / "a.txt", [("1.jpg", (1, -1)), ("2.jpg", (-1, -1))], extra="\n\n")
    names, files, m = read_celeba_attributes(p)
    assert names == ["Smiling", "Male"] and files == ["1.jpg", "2.jpg"]
    assert m.dtype == np.int8 and m.tolist() == [[1, -1], [-1, -1]]
    cases = [
        ("2\nA B\n1.jpg 1 1\n2.jpg 1\n", r"line 4: 2 columns, expected 3"),
        ("2\nA B\n1.jpg 1 1\n2.jpg 1 0\n", r"line 4: value '0' for B, expected 1 or -1"),
        ("3\nA B\n1.jpg 1 1\n2.jpg 1 -1\n", r"line 1: says 3 rows but the file has 2"),
        ("two\nA B\n", r"line 1: 'two' is not the row count"),
        ("1\nA B\n1.jpg 1 1\n1.jpg 1 1\n", r"line 4: file name 1.jpg appears twice"),
        ("1\n", r"count line and an attribute-name line"),
    ]
    for text, msg in cases:
        p.write_text(text)
        with pytest.raises(InvalidInputError, match=rf"a\.txt.*{msg}"):
            read_celeba_attributes(p)
    with pytest.raises(InvalidInputError, match="attribute file not found"):
        read_celeba_attributes(tmp_path / "missing.txt")


def test_two_workers_give_the_same_store(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(40):  # >= 16 files per worker, so two processes really run
        Image.fromarray(rng.integers(0, 256, (109, 89, 3), dtype=np.uint8)).save(src / f"{i:03d}.png")
    # workers write into the store at their chunk's rows (3 files per chunk here) and the
    # parent closes the gaps: bad files first, last, alone and a whole chunk of them
    broken = ["000.png", "017.png", "018.png", "019.png", "020.png", "039.png"]
    for name in broken:
        (src / name).write_bytes(b"broken")
    r1 = prepare_dataset(src, tmp_path / "w1", size=24, workers=1)
    r2 = prepare_dataset(src, tmp_path / "w2", size=24, workers=2)
    assert r1.written == r2.written == 34 and r1.skipped == r2.skipped
    assert [name for name, _ in r2.skipped] == broken
    s1, s2 = DatasetStore.open(tmp_path / "w1"), DatasetStore.open(tmp_path / "w2")
    np.testing.assert_array_equal(s1.images, s2.images)
    assert s1.filenames == s2.filenames and not set(broken) & set(s1.filenames)
    # every stored row is the image of its file name, in file order
    for row, name in [(0, "001.png"), (15, "016.png"), (16, "021.png"), (33, "038.png")]:
        assert s2.filenames[row] == name
        np.testing.assert_array_equal(s2.images[row], load_face(src / name, "celeba", 24))

    def cancel_after_first(done, total, msg, metrics=None):
        rep.cancel()

    rep = ProgressReporter(cancel_after_first)
    with pytest.raises(Cancelled):
        prepare_dataset(src, tmp_path / "w3", size=24, workers=2, progress=rep)
    assert not (tmp_path / "w3").exists()


def test_celeba_preset_skips_other_aspects(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _celeba_like(0.5).save(src / "a.png")
    _tiny(src / "b.png", 9, size=(60, 60))
    _tiny(src / "c.png", 9, size=(120, 120))
    rep = prepare_dataset(src, tmp_path / "out", preset="celeba", size=16, workers=1)
    assert rep.written == 1
    assert rep.reason_counts() == {"aspect is not CelebA's 178:218 (use preset 'center')": 2}


def _cli(argv):
    parser = argparse.ArgumentParser()
    prepare_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["prepare"] + argv)
    return args.handler(args)


def test_cli(tmp_path, capsys):
    src = _folder_with_bad_files(tmp_path)
    assert _cli([str(src), "--out", str(tmp_path / "out"), "--size", "16", "--workers", "1"]) == 0
    cap = capsys.readouterr()
    assert "prepare: wrote 6 images to" in cap.out and "skipped 4 (" in cap.out
    assert "skipped empty.jpg: empty file" in cap.err
    with pytest.raises(InvalidInputError, match="not found"):
        _cli([str(tmp_path / "nope"), "--out", str(tmp_path / "o")])


@pytest.mark.realdata
def test_real_celeba_half_and_crops(shared_data, tmp_path):
    half, crops = shared_data / "celeba_aligned_half", shared_data / "celeba_crops"
    if not half.is_dir() or not crops.is_dir():
        pytest.skip("celeba_aligned_half / celeba_crops not in ../shared/data")
    attr = half / "list_attr_celeba.txt"
    rep = prepare_dataset(half, tmp_path / "h", preset="celeba", attributes=attr, size=96, limit=200,
                          workers=1)
    assert rep.written == 200 and not rep.skipped
    s = DatasetStore.open(tmp_path / "h")
    names, files, m = read_celeba_attributes(attr)
    assert s.filenames[0] == "000001.jpg" and s.attributes.shape == (200, 40)
    np.testing.assert_array_equal(s.attributes, m[[files.index(f) for f in s.filenames]])
    assert 60 < s.images.mean() < 200
    rep = prepare_dataset(crops, tmp_path / "c", preset="center", size=64, limit=200, workers=1)
    assert rep.written == 200 and DatasetStore.open(tmp_path / "c").images.shape == (200, 64, 64, 3)


def test_a_killed_worker_gives_a_clear_error_and_no_store(tmp_path):
    import signal

    import psutil

    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(1)
    for i in range(400):
        Image.fromarray(rng.integers(0, 256, (109, 89, 3), dtype=np.uint8)).save(src / f"{i:03d}.png")
    killed = []

    def kill_a_worker(done, total, msg, metrics=None):
        if not killed:
            workers = [c for c in psutil.Process().children()
                       if "spawn_main" in " ".join(c.cmdline())]   # not the resource tracker
            workers[0].send_signal(signal.SIGKILL)
            killed.append(workers[0].pid)

    with pytest.raises(ChildProcessError, match="a decoding worker process ended unexpectedly"):
        prepare_dataset(src, tmp_path / "out", size=24, workers=2,
                        progress=ProgressReporter(kill_a_worker))
    assert killed and not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
