"""Neighbour queries over many points run on the controller's neighbour thread: a click on the
scatter updates the face view's nearest point and the neighbour list when the search is done,
with the exact answer, and a newer vector's answer is never overwritten by an older one."""

import numpy as np
import pytest

from latentexplorer.gui.decoding import BACKGROUND_QUERY_POINTS

N = BACKGROUND_QUERY_POINTS + 5_000


@pytest.fixture
def explorer(qtbot, make_state):
    from latentexplorer.gui.controller import ExplorerController
    from latentexplorer.gui.face_view import FaceView
    from latentexplorer.gui.scatter import LatentScatterWidget
    from latentexplorer.gui.selection_panel import SelectionPanel
    from latentexplorer.gui.workers import TaskRunner

    rng = np.random.default_rng(7)
    st = make_state(rng.normal(size=(N, 6)).astype(np.float32) * np.float32([3, 2, 1, 1, .5, .5]))
    controller = ExplorerController(st, TaskRunner())
    face, panel = FaceView(st, controller.neighbours), SelectionPanel(st, controller)
    sc = LatentScatterWidget(st)
    for w in (face, panel, sc):
        qtbot.addWidget(w)
        w.show()
    sc.resize(500, 400)
    yield st.model, sc, face, panel, controller
    controller.close()


def test_click_shows_the_exact_nearest_point_and_neighbours_when_found(explorer, qtbot, mouse):
    m, sc, face, panel, controller = explorer
    (x0, x1), (y0, y1) = sc.getViewBox().viewRange()
    for fx, fy in ((0.3, 0.6), (0.7, 0.4)):  # the second click's answers win
        mouse.click(sc, x0 + fx * (x1 - x0), y0 + fy * (y1 - y0))
    d = np.linalg.norm(m.z.astype(np.float64) - m.current.vector, axis=1)
    best = np.argsort(d)
    qtbot.waitUntil(lambda: face.nearest_label.text().startswith(f"#{best[0]} "), timeout=10_000)
    qtbot.waitUntil(lambda: panel.neighbour_indices() == list(best[:panel.k_spin.value()]),
                    timeout=10_000)
    assert f"distance {d[best[0]]:.2f}" in face.nearest_label.text()
    assert controller.wait_idle()
    assert face.nearest_label.text().startswith(f"#{best[0]} ")  # no late, older answer
