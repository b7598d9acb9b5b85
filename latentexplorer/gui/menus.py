"""The main window's menus: every command a user can reach, with its shortcut and a tooltip.

Plain actions call their slot without arguments (``QAction.triggered(bool)``'s ``checked`` is not
passed on: a slot with a default parameter would get ``False`` for it — the Ctrl+N crash).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QAction, QKeySequence


def _action(win, menu, text: str, slot: Callable, shortcut=None, tip: str = "",
            checkable: bool = False) -> QAction:
    """A menu action; a plain action calls ``slot()`` (``triggered(bool)``'s argument is not
    passed on: a slot with a default parameter would get ``False`` for it)."""
    act = QAction(text, win)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    act.setToolTip(tip or text)
    act.setStatusTip(tip or text)
    act.setCheckable(checkable)
    if checkable:
        act.toggled.connect(slot)
    else:
        act.triggered.connect(lambda _checked=False: slot())
    menu.addAction(act)
    return act


def _dock_action(win, dock) -> QAction:
    """View > DOCK: brings the dock forward when it is closed or covered by another tab; closes
    it only when it is the one in front (Qt's toggleViewAction would close a covered dock)."""
    act = QAction(dock.windowTitle(), win)
    act.setCheckable(True)
    act.setChecked(not dock.isHidden())
    act.setToolTip(f"Show the {dock.windowTitle()} dock (again: close it)")

    def chosen(_checked: bool) -> None:
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            dock.close()
        else:
            dock.show()
            dock.raise_()
        act.setChecked(not dock.isHidden())

    act.triggered.connect(chosen)
    dock.visibilityChanged.connect(lambda _v: act.setChecked(not dock.isHidden()))
    return act


def build_menus(win) -> None:
    """File, View and Tools menus of the main window ``win`` (its ``act_*`` attributes are set)."""
    mb = win.menuBar()
    f = mb.addMenu("&File")
    f.setToolTipsVisible(True)
    win.act_new = _action(win, f, "&New from synthetic faces…", win.new_synthetic, QKeySequence.New,
                          "Generate synthetic faces and train a model on them in the background "
                          "(no download needed)")
    win.act_open = _action(win, f, "&Open workspace…", win.open_workspace_dialog, QKeySequence.Open,
                           "Open a workspace folder (config.json)")
    win.act_open_grid = _action(win, f, "Open &grid or strip…", win.open_grid_dialog, "Ctrl+Shift+O",
                                "Show the z-vectors of an exported grid or path strip (PNG + JSON) "
                                "in the scatter")
    f.addSeparator()
    exp = f.addMenu("&Export")
    exp.setToolTipsVisible(True)
    _action(win, exp, "Scatter plot as PNG/SVG…", win.export_scatter, "Ctrl+E",
            "Save the scatter as an image (in the workspace's results/)")
    _action(win, exp, "Path strip (PNG + JSON)…", win.path_strip.export_dialog, "Ctrl+Shift+E",
            "Save the path strip with its z-vectors and its path")
    _action(win, exp, "Current z-vector (.npy/.csv)…", win.export_current_vector, None,
            "Save the current z-vector")
    _action(win, exp, "Bookmarks (JSON)…", win.bookmarks_panel.export_dialog, None,
            "Write the selected bookmarks (all when none is selected) to a JSON file")
    _action(win, f, "Import &bookmarks…", win.bookmarks_panel.import_dialog, None,
            "Add the bookmarks of a JSON file to this workspace")
    f.addSeparator()
    win.act_quit = _action(win, f, "&Quit", win.close, "Ctrl+Q", "Close the explorer")

    v = mb.addMenu("&View")
    v.setToolTipsVisible(True)
    _action(win, v, "Latent plane", lambda: win.show_plane(("latent", 0, 1)), "Ctrl+L",
            "Show latent components (z[i], z[j])")
    _action(win, v, "PCA plane", lambda: win.show_plane(("pca", 0, 1)), "Ctrl+P",
            "Show PCA axes (PC i, PC j)")
    _action(win, v, "Reset zoom", win.scatter.refresh_data, "Ctrl+0", "Zoom to the z-points")
    v.addSeparator()
    for k, name in enumerate(["Explorer", "Training", "Generator", "Analysis"]):
        _action(win, v, f"{name} tab", lambda k=k: win.tabs.setCurrentIndex(k), f"Ctrl+{k + 1}",
                f"Show the {name} tab")
    win.act_legend = _action(win, v, "Show legend", win.scatter.set_legend_visible, "Ctrl+G",
                             "Show the legend of the scatter's overlays", checkable=True)
    win.layers_menu = v.addMenu("&Layers")
    win.layers_menu.setToolTipsVisible(True)
    win.layers.changed.connect(lambda names: _fill_layers(win, names))
    _fill_layers(win, [])
    v.addSeparator()
    for dock in (win.face_dock, win.path_dock, win.selection_dock, win.bookmarks_dock,
                 win.directions_dock):
        v.addAction(_dock_action(win, dock))
    win.act_add_bookmark = _action(
        win, v, "Add &bookmark…", win.bookmarks_panel.add_bookmark, "Ctrl+B",
        "Save the plane, vector, path, selection and generator settings under a name")

    t = mb.addMenu("&Tools")
    t.setToolTipsVisible(True)
    win.act_snap = _action(win, t, "Snap to data point", lambda on: win.model.set_modes(snap=on), "S",
                           "Clicks select the nearest data point's own z-vector", checkable=True)
    win.act_path = _action(win, t, "Path mode", lambda on: win.model.set_modes(path_mode=on), "P",
                           "Drag/clicks in the scatter draw a path", checkable=True)
    win.state.modesChanged.connect(lambda snap, path: (win.act_snap.setChecked(snap),
                                                       win.act_path.setChecked(path)))
    _action(win, t, "Clear path", lambda: win.model.set_path(None), "Ctrl+Backspace", "Remove the path")
    t.addSeparator()
    _selection_actions(win, t.addMenu("S&election"))
    t.addSeparator()
    win.act_face_map = _action(win, t, "Face-likeness map", win.face_map.compute, "Ctrl+M",
                               "Decode a 32×32 grid over the visible plane (the current vector's other "
                               "coordinates kept) and shade where MTCNN finds a face")
    _action(win, t, "Hide face-likeness map", win.face_map.clear, "Ctrl+Shift+M",
            "Remove the face-likeness map from the scatter")
    t.addSeparator()
    _action(win, t, "Encode dataset again", win.controller.encode, None,
            "Re-encode the dataset with the committed encoder")
    _action(win, t, "Cancel tasks", win.cancel_tasks, "Esc", "Stop all background tasks")


def _selection_actions(win, menu) -> None:
    """Tools > Selection: the rectangle / lasso tools, clearing, isolating, exporting."""
    m, panel = win.model, win.selection_panel
    menu.setToolTipsVisible(True)
    win.act_select_rect = _action(win, menu, "Rectangle selection", lambda on: _tool(m, "rect", on), "R",
                                  "Drag a rectangle in the scatter to select the points in it "
                                  "(Shift: add, Ctrl: remove)", checkable=True)
    win.act_select_lasso = _action(win, menu, "Lasso selection", lambda on: _tool(m, "lasso", on), "L",
                                   "Draw an outline in the scatter to select the points in it "
                                   "(Shift: add, Ctrl: remove)", checkable=True)
    win.state.toolChanged.connect(lambda tool: (win.act_select_rect.setChecked(tool == "rect"),
                                                win.act_select_lasso.setChecked(tool == "lasso")))
    win.act_clear_selection = _action(win, menu, "Clear selection", panel._clear, "Ctrl+Shift+A",
                                      "Select nothing and leave the selection tool (Esc in the scatter)")
    win.act_isolate = _action(win, menu, "Isolate selection", m.set_isolate, "I",
                              "Grey out the points outside the selection", checkable=True)
    win.state.selectionChanged.connect(lambda _s: win.act_isolate.setChecked(m.isolate))
    menu.addSeparator()
    win.act_export_selection = _action(win, menu, "Export selection…", panel.export_dialog, None,
                                       "Save the selected indices, file names and z-vectors (.npz)")
    win.act_selection_set = _action(win, menu, "Save selection as named set…", panel.save_named_set_dialog,
                                    None, "Save the selected z-vectors as a named latent set (View > Layers)")


def _tool(model, tool: str, on: bool) -> None:
    if on:
        model.set_select_tool(tool)
    elif model.select_tool == tool:
        model.set_select_tool(None)


def _fill_layers(win, names: list[str]) -> None:
    """View > Layers: one checkable entry per named latent set."""
    menu = win.layers_menu
    menu.clear()
    for name in names:
        act = QAction(name, win)
        act.setCheckable(True)
        act.setChecked(name not in win.layers.hidden)
        act.setToolTip(f"Show the latent set '{name}' (encode --data STORE --name {name})")
        act.toggled.connect(lambda on, name=name: win.layers.set_visible(name, on))
        menu.addAction(act)
    if not names:
        none = menu.addAction("(no named sets: latentexplorer encode --data STORE --name NAME)")
        none.setEnabled(False)
