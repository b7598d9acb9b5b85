"""Collect the numbers of docs/reproduction.md from analyse/sample outputs (prints Markdown).

Usage: python docs/reproduce_tables.py RUN_DIR WS_NAME [WS_NAME ...]
where RUN_DIR/WS_NAME is a workspace, RUN_DIR/WS_NAME-analysis/summary.json its analysis and
RUN_DIR/WS_NAME-samples/*.json the sample sidecars (see the commands in docs/reproduction.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def hit_rate(z: np.ndarray, mu: np.ndarray, hw: np.ndarray, k: float) -> float:
    """Fraction of vectors whose every component lies in mu ± k·hw (SPEC §4 hit test)."""
    return float(np.mean(np.all(np.abs(z - mu) <= k * hw, axis=1)))


def main(run_dir: Path, names: list[str]) -> None:
    for name in names:
        summary = json.loads((run_dir / f"{name}-analysis" / "summary.json").read_text())
        comps = summary["components"]
        mu = np.array([c["mu"] for c in comps])
        hw = np.array([c["half_width"] for c in comps])
        r = summary["radius"]
        print(f"\n### {name}\n")
        print(f"* points {summary['n_points']}, z_dim {summary['z_dim']}")
        print(f"* radius: mean {r['mean']:.2f}, peak {r['peak']:.2f}, p01 {r['p01']:.2f}, p99 {r['p99']:.2f}, "
              f"max {r.get('max', float('nan')):.2f}")
        dom = summary["dominant"]
        top = sorted(comps, key=lambda c: -c["half_width"])[:5]
        print(f"* dominant components (|μ| ≥ 0.25 or hw ≥ 1.5): {len(dom)}; widest: "
              + ", ".join(f"#{c['index']} μ {c['mu']:.2f} hw {c['half_width']:.2f}" for c in top))
        cnt = summary["correlation"]["counts_over"]
        print("* correlation pairs with |r| over 0.1…0.6: "
              + ", ".join(f"{k}: {v}" for k, v in cnt.items())
              + f"; strongest {summary['correlation'].get('strongest')}")
        evr = summary["pca"]["explained_variance_ratio"]
        cum = np.cumsum(evr)
        print("* PCA explained variance ratio, first 10: " + ", ".join(f"{v:.3f}" for v in evr[:10])
              + f"; components for 50/80/90/95 %: "
              + "/".join(str(int(np.searchsorted(cum, q) + 1)) for q in (0.5, 0.8, 0.9, 0.95)))
        if "vae" in summary and summary["vae"]:
            v = summary["vae"]
            print("* VAE diagnostics: " + ", ".join(
                f"{k} {val:.4g}" for k, val in v.items() if isinstance(val, (int, float))))
        if summary.get("kmeans"):
            k, inertia = summary["kmeans"]["k"], summary["kmeans"]["inertia"]
            pick = [i for i, kk in enumerate(k) if kk in (2, 10, 20, 40, 60, 80)]
            print("* KMeans inertia (relative to k=2): " + ", ".join(
                f"k={k[i]}: {inertia[i] / inertia[0]:.3f}" for i in pick))
        if summary.get("attributes"):
            rows = summary["attributes"][:6]
            print("* attribute directions, best separated (d', AUC): " + ", ".join(
                f"{r['name']} {r['d_prime']:.2f}/{r['auc']:.2f}" for r in rows))
        print("\n| generator | settings | mean radius | MTCNN faces [95 % interval] | Haar faces "
              "| P / R / D / C | variety ×real | re-encode ratio | closeness | hits k=2 | hits k=3 |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for f in sorted((run_dir / f"{name}-samples").glob("*.json")):
            side = json.loads(f.read_text())
            z = np.asarray(side["z"], dtype=np.float64)
            board = side["scores"]["scoreboard"]
            settings = ", ".join(f"{k}={v}" for k, v in side["settings"].items())
            m, h, c = board.get("mtcnn") or {}, board.get("haar") or {}, board.get("coverage") or {}
            rate = (f"{m['rate']:.0%} [{m['interval'][0]:.0%}–{m['interval'][1]:.0%}]" if m else "–")
            prdc = ("/".join(f"{c[k]:.2f}" for k in ("precision", "recall", "density", "coverage"))
                    if c else "–")
            variety = board.get("variety_ratio")
            haar = f"{h['rate']:.0%}" if h else "–"
            print(f"| {side['generator']} | {settings} | {np.linalg.norm(z, axis=1).mean():.2f} "
                  f"| {rate} | {haar} | {prdc} | "
                  f"{'–' if variety is None else f'{variety:.2f}'} "
                  f"| {board.get('reencode_ratio', float('nan')):.2f} "
                  f"| {board.get('closeness', float('nan')):.2f} "
                  f"| {hit_rate(z, mu, hw, 2):.0%} | {hit_rate(z, mu, hw, 3):.0%} |")

if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
