"""Attribute directions with unknown (NaN) labels."""

import numpy as np



def test_nan_labels_are_unknown_and_left_out():
    """A merged store has NaN attributes for images without labels: they join neither group."""
    from latentexplorer.analysis.attributes import attribute_directions

    rng = np.random.default_rng(3)
    z = rng.normal(size=(400, 5))
    lab = np.where(z[:, 0] > 0, 1.0, -1.0)
    full = attribute_directions(z[:200], lab[:200, None])
    mixed_lab = lab.copy()
    mixed_lab[200:] = np.nan
    mixed = attribute_directions(z, mixed_lab[:, None])
    np.testing.assert_allclose(mixed.directions, full.directions, atol=1e-12)
    np.testing.assert_allclose(mixed.auc, full.auc, atol=1e-12)
    assert mixed.n_pos[0] + mixed.n_neg[0] == 200
