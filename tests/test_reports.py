import json
import warnings

import numpy as np
import pytest

from latentexplorer.analysis.report import analyze_latents
from latentexplorer.reports import write_analysis
from latentexplorer.cli import main
from latentexplorer.progress import ProgressReporter


def _latents(n=1500, d=16, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d))
    z[:, 1] = 0.9 * z[:, 0] + 0.2 * z[:, 1]        # one strongly correlated pair
    z[:, 3] += 1.0                                   # dominant by |mu|
    z[:, 5] *= 2.0                                   # dominant by half-width
    return z.astype(np.float32)


def test_analyze_latents_summary_numbers():
    z = _latents()
    steps = []
    s, res = analyze_latents(z, progress=ProgressReporter(lambda d, t, m, metrics=None: steps.append(m)))
    assert s["n_points"] == 1500 and s["z_dim"] == 16
    assert set(s["radius"]) >= {"mean", "peak", "p01", "p99"}
    assert s["radius"]["mean"] == pytest.approx(np.linalg.norm(z.astype(float), axis=1).mean())
    assert [c["index"] for c in s["components"]] == list(range(16))
    assert {3, 5} <= set(s["dominant"])
    corr = s["correlation"]
    assert list(corr["counts_over"]) == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6"]
    (i, j, r), = corr["pairs_over_0.5"]
    assert (i, j) == (0, 1) and r == pytest.approx(np.corrcoef(z[:, 0], z[:, 1])[0, 1])
    assert corr["strongest"][:2] == [0, 1]
    ratio = s["pca"]["explained_variance_ratio"]
    assert len(ratio) == 16 and sum(ratio) == pytest.approx(1.0)
    assert "vae" not in s and "attributes" not in s
    assert steps[0] == "component histograms" and steps[-1] == "analysis done"
    assert res["correlation"].shape == (16, 16)
    json.dumps(s)                                    # JSON-ready


def test_analyze_latents_vae_and_attributes():
    z = _latents(n=400)
    mu = z.copy()
    logvar = np.full_like(z, -10.0)
    labels = (z[:, 3] > 1.0).astype(int)[:, None]
    s, res = analyze_latents(z, mu=mu, logvar=logvar, attributes=labels,
                             attribute_names=["Smiling"])
    assert s["vae"]["logvar_mean"] == pytest.approx(-10.0)
    assert s["attributes"][0]["name"] == "Smiling" and s["attributes"][0]["d_prime"] > 1


def test_write_analysis_from_array_no_plots(tmp_path):
    s = write_analysis(_latents(n=300), tmp_path / "out", plots=False)
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk["n_points"] == 300 and on_disk["plots_skipped"] == "disabled"
    assert s["dominant"] == on_disk["dominant"]
    assert not list((tmp_path / "out").glob("*.partial"))


def test_cli_on_latents_file(tmp_path, capsys):
    path = tmp_path / "z.npy"
    np.save(path, _latents())
    out = tmp_path / "analysis"
    rc = main(["analyze", "--latents", str(path), "--out", str(out)])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    for key in ("n_points", "z_dim", "radius", "components", "dominant", "correlation", "pca"):
        assert key in s
    assert {"mean", "peak", "p01", "p99"} <= set(s["radius"])
    assert {"index", "mu", "half_width"} <= set(s["components"][0])
    assert set(s["correlation"]["counts_over"]) == {"0.1", "0.2", "0.3", "0.4", "0.5", "0.6"}
    assert isinstance(s["correlation"]["pairs_over_0.5"], list)
    assert isinstance(s["pca"]["explained_variance_ratio"], list)
    expected = {"components_dominant.png", "components_all.png", "radius.png",
                "correlation.png", "pca_spectrum.png"}
    assert set(s["plots"]) == expected
    for name in expected:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert "dominant components" in capsys.readouterr().out


def test_cli_umap_and_kmeans_on_every_point(tmp_path):
    """--umap embeds every point (no subset by default) and plots it; --kmeans curves all."""
    path = tmp_path / "z.npy"
    z = _latents()
    np.save(path, z)
    out = tmp_path / "analysis"
    rc = main(["analyze", "--latents", str(path), "--out", str(out), "--umap", "--kmeans"])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["umap"]["n_points"] == len(z) and s["kmeans"]["n_points"] == len(z)
    emb = np.load(out / "umap.npy")
    assert emb.shape == (len(z), 2) and np.isfinite(emb).all()
    np.testing.assert_array_equal(np.load(out / "umap_indices.npy"), np.arange(len(z)))
    assert "umap.png" in s["plots"] and "kmeans_inertia.png" in s["plots"]


def test_cli_errors(tmp_path, capsys):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((5, 3), np.nan))
    assert main(["analyze", "--latents", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "NaN" in capsys.readouterr().err
    assert main(["analyze", "--latents", str(tmp_path / "missing.npy"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err
    np.save(tmp_path / "z.npy", _latents(n=50))
    np.save(tmp_path / "mu.npy", np.zeros((49, 16)))
    assert main(["analyze", "--latents", str(tmp_path / "z.npy"), "--mu",
                 str(tmp_path / "mu.npy"), "--logvar", str(tmp_path / "mu.npy"),
                 "--out", str(tmp_path / "o"), "--no-plots"]) == 2
    assert "mu.npy: shape (49, 16), expected (50, 16)" in capsys.readouterr().err


def test_plots_skipped_when_qt_cannot_load(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, globals=None, locals=None, fromlist=(), level=0):
        if fromlist and "analysis_plots" in fromlist:
            raise ImportError("no Qt here")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = write_analysis(_latents(n=200), tmp_path / "o")
    assert "no Qt here" in s["plots_skipped"] and s["plots"] == []
    assert (tmp_path / "o" / "summary.json").exists()
    assert any("plots skipped" in str(w.message) for w in caught)


def test_write_analysis_from_a_workspace(tmp_path):
    """mu / logvar come from the workspace's VAE latents, attributes from its store; stale latents
    are warned about and recorded."""
    from tiny_models import commit_untrained_epoch, tiny_config

    from latentexplorer.data.store import StoreWriter
    from latentexplorer.workspace import Workspace

    z = _latents(n=300)[:, :4]
    with StoreWriter(tmp_path / "store", 300, 16) as w:
        w.images[:] = 9
        w.set_attributes((z[:, 3] > 1.0).astype(np.float32)[:, None], ["Smiling"])
        w.finish({"source": "test"})
    ws = Workspace.create(tmp_path / "ws", tmp_path / "store", tiny_config("vae"))
    commit_untrained_epoch(ws)
    ws.write_latents(z, z, np.full_like(z, -13.7), store=ws.dataset().fingerprint())
    s = write_analysis(ws, tmp_path / "o", plots=False)
    assert s["vae"]["logvar_mean"] == pytest.approx(-13.7, abs=1e-4)
    assert s["attributes"][0]["name"] == "Smiling"
    assert s["source"]["stale"] is None and s["source"]["latents_epoch"] == 1
    commit_untrained_epoch(ws, seed=1)  # other weights: the latents are stale now
    with pytest.warns(UserWarning, match="epoch 1's weights"):
        s = write_analysis(ws, tmp_path / "o", plots=False)
    assert "epoch 1's weights" in s["source"]["stale"]
