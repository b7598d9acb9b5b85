"""Bookmarks panel: named explorer states of the open workspace (``WS/bookmarks.json``).

*Add* asks for a name and saves the plane, the current vector, the path, the selection, the
generator settings and seed, and the decoder fingerprint (:func:`latentexplorer.explore.bookmarks.capture`).
A double-click or Enter on a bookmark restores it into the model (the scatter, the face and the path
follow through AppState's signals). *Rename* (also F2), *Delete* (also the Delete key), *Export…* (the
selected bookmarks, or all when none is selected) and *Import…* work on the same file through
:class:`~latentexplorer.explore.bookmarks.BookmarkStore`, under its lock. A bookmark made with
another decoder than the one loaded is marked ⚠: its vectors decode to other faces.

The panel is Qt only; what it stores and how it is checked is the store's. Two optional hooks
connect it to the generator panel: ``generator_spec()`` gives the generator settings to save (default:
the spec of the samples shown), ``apply_generator(spec)`` receives a restored bookmark's spec.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QInputDialog, QLabel, QListWidget,
                               QListWidgetItem, QMessageBox, QPushButton, QVBoxLayout, QWidget)

from ..errors import LatentExplorerError
from ..explore.bookmarks import Bookmark, BookmarkStore, apply, capture
from .export import ask_save_path
from .state import AppState
from .widgets import show_error

log = logging.getLogger(__name__)

BOOKMARK_FILTER = "Bookmarks (*.json)"
#: seconds the GUI waits for another writer of bookmarks.json (they hold it for milliseconds)
GUI_LOCK_WAIT = 5.0
MISMATCH_MARK = "⚠ "


class BookmarksPanel(QWidget):
    """See the module docstring."""

    restored = Signal(object)  # the Bookmark just applied
    changed = Signal()  # the list was re-read (after any change)

    def __init__(self, state: AppState, *, settings=None,
                 generator_spec: Callable[[], object] | None = None,
                 apply_generator: Callable[[object], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = state.model
        self.settings = settings
        self.generator_spec = generator_spec
        self.apply_generator = apply_generator
        self.items: list[Bookmark] = []

        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.ExtendedSelection)
        self.list.setToolTip("Double-click or Enter restores a bookmark; F2 renames it, Delete removes it")
        self.add_button = self._button("Add…", "Save the current state under a name")
        self.restore_button = self._button("Restore", "Put the selected bookmark's state back")
        self.rename_button = self._button("Rename…", "Give the selected bookmark another name")
        self.delete_button = self._button("Delete", "Remove the selected bookmarks")
        self.export_button = self._button("Export…", "Write the selected bookmarks (all when none "
                                                     "is selected) to a JSON file")
        self.import_button = self._button("Import…", "Add the bookmarks of a JSON file")
        self.status = QLabel()
        self.status.setWordWrap(True)

        rows = (QHBoxLayout(), QHBoxLayout())
        for row, buttons in zip(rows, ((self.add_button, self.restore_button, self.rename_button),
                                       (self.delete_button, self.export_button, self.import_button))):
            for b in buttons:
                row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.list, 1)
        for row in rows:
            lay.addLayout(row)
        lay.addWidget(self.status)

        self.add_button.clicked.connect(lambda _c=False: self.add_bookmark())
        self.restore_button.clicked.connect(lambda _c=False: self.restore_selected())
        self.rename_button.clicked.connect(lambda _c=False: self.rename_selected())
        self.delete_button.clicked.connect(lambda _c=False: self.delete_selected())
        self.export_button.clicked.connect(lambda _c=False: self.export_dialog())
        self.import_button.clicked.connect(lambda _c=False: self.import_dialog())
        self.list.itemActivated.connect(lambda item: self.restore(item.data(Qt.UserRole)))
        self.list.itemSelectionChanged.connect(self._update_enabled)
        self.list.installEventFilter(self)  # Delete and F2 on the list
        state.workspaceChanged.connect(lambda _ws: self.refresh())
        state.decoderChanged.connect(lambda _d: self.refresh())
        state.dataChanged.connect(lambda _m: self._update_enabled())
        state.currentChanged.connect(lambda _c: self._update_enabled())
        self.refresh()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self.list and event.type() == QEvent.KeyPress:
            if event.key() == Qt.Key_Delete:
                self.delete_selected()
                return True
            if event.key() == Qt.Key_F2:
                self.rename_selected()
                return True
        return super().eventFilter(obj, event)

    @staticmethod
    def _button(text: str, tip: str) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        return b

    # ------------------------------------------------------------------ the store
    def store(self) -> BookmarkStore | None:
        """The open workspace's bookmarks (None without a workspace)."""
        ws = self.state.workspace
        if ws is None:
            return None
        return BookmarkStore(ws.path, z_dim=ws.model_config.z_dim, n_points=self.model.n_points or None,
                             decoder_fingerprint=self.state.decoder_fingerprint, wait=GUI_LOCK_WAIT)

    def refresh(self) -> None:
        """Re-read the list; a damaged file is named in the status line (and left as it is)."""
        store = self.store()
        self.items, problem = [], ""
        if store is not None:
            try:
                self.items = store.bookmarks()
            except (LatentExplorerError, OSError) as exc:
                problem = str(exc)
        self.list.clear()
        current = self.state.decoder_fingerprint
        for bm in self.items:
            other = bool(bm.decoder_fingerprint and current and bm.decoder_fingerprint != current)
            item = QListWidgetItem((MISMATCH_MARK if other or bm.decoder_mismatch else "") + bm.name)
            item.setData(Qt.UserRole, bm.name)
            tip = bm.summary()
            if other:
                tip += f"\nmade with decoder {bm.decoder_fingerprint}; the loaded one is {current}"
            item.setToolTip(tip)
            self.list.addItem(item)
        if store is None:
            self.status.setText("Open a workspace to keep bookmarks")
        elif problem:
            self.status.setText(problem)
        else:
            self.status.setText(f"{len(self.items)} bookmark{'s' * (len(self.items) != 1)}")
        self._update_enabled()
        self.changed.emit()

    def _update_enabled(self) -> None:
        has_ws = self.state.workspace is not None
        chosen = len(self.list.selectedItems())
        self.add_button.setEnabled(has_ws and self.model.current is not None)
        self.restore_button.setEnabled(chosen == 1)
        self.rename_button.setEnabled(chosen == 1)
        self.delete_button.setEnabled(chosen >= 1)
        self.export_button.setEnabled(has_ws and bool(self.items))
        self.import_button.setEnabled(has_ws)

    def selected_names(self) -> list[str]:
        return [item.data(Qt.UserRole) for item in self.list.selectedItems()]

    def _run(self, fn) -> bool:
        """Run a store operation; its error is shown in a dialog (one line naming the file)."""
        try:
            fn()
        except (LatentExplorerError, OSError, ValueError) as exc:
            show_error(self, "Bookmarks", str(exc))
            self.refresh()
            return False
        self.refresh()
        return True

    # ------------------------------------------------------------------ actions
    def add_bookmark(self) -> None:
        store = self.store()
        if store is None or self.model.current is None:
            return
        name, ok = QInputDialog.getText(self, "Add bookmark", "Name of the bookmark:",
                                        text=f"Bookmark {len(self.items) + 1}")
        if not ok or not name.strip():
            return
        replace = False
        if name.strip() in {bm.name for bm in self.items}:
            answer = QMessageBox.question(self, "Add bookmark", f"Replace the bookmark {name.strip()!r}?")
            if answer != QMessageBox.Yes:
                return
            replace = True

        def add() -> None:
            spec = self.generator_spec() if self.generator_spec is not None else None
            bm = capture(self.model, name, generator=spec,
                         decoder_fingerprint=self.state.decoder_fingerprint)
            store.add(bm, replace=replace)
            self.state.notice.emit(f"Bookmark saved: {bm.name}")

        self._run(add)

    def restore_selected(self) -> None:
        names = self.selected_names()
        if len(names) == 1:
            self.restore(names[0])

    def restore(self, name: str) -> None:
        """Apply the bookmark ``name`` to the model."""
        bm = next((b for b in self.items if b.name == name), None)
        if bm is None:
            return
        try:
            warnings = apply(bm, self.model)
            spec = bm.generator_spec()
            if spec is not None and self.apply_generator is not None:
                self.apply_generator(spec)
        except (LatentExplorerError, ValueError) as exc:
            show_error(self, "Bookmarks", str(exc))
            return
        text = f"Bookmark restored: {bm.name}" + (f" ({'; '.join(warnings)})" if warnings else "")
        self.status.setText(text)
        self.state.notice.emit(text)
        self.restored.emit(bm)

    def rename_selected(self) -> None:
        names = self.selected_names()
        store = self.store()
        if len(names) != 1 or store is None:
            return
        new, ok = QInputDialog.getText(self, "Rename bookmark", "New name:", text=names[0])
        if ok and new.strip() and new.strip() != names[0]:
            self._run(lambda: store.rename(names[0], new))

    def delete_selected(self) -> None:
        names = self.selected_names()
        store = self.store()
        if not names or store is None:
            return
        what = repr(names[0]) if len(names) == 1 else f"{len(names)} bookmarks"
        if QMessageBox.question(self, "Delete bookmarks", f"Delete {what}?") != QMessageBox.Yes:
            return

        def delete() -> None:
            for name in names:
                store.delete(name)

        self._run(delete)

    def export_dialog(self) -> Path | None:
        """Ask for a JSON file and export the selected bookmarks there (all when none is selected)."""
        store = self.store()
        if store is None:
            return None
        names = self.selected_names() or None
        path = ask_save_path(self, "Export bookmarks", "bookmarks", BOOKMARK_FILTER, "bookmarks.json",
                             settings=self.settings, workspace=self.state.workspace)
        if path is None:
            return None
        if self._run(lambda: store.export(path, names)):
            count = len(names) if names else len(self.items)
            self.state.notice.emit(f"{count} bookmark{'s' * (count != 1)} exported to {path}")
            return path
        return None

    def import_dialog(self) -> None:
        """Ask for a bookmark file and add its bookmarks (every field checked; all or none)."""
        from .settings import Settings

        store = self.store()
        if store is None:
            return
        settings = self.settings or Settings()
        name, _filter = QFileDialog.getOpenFileName(self, "Import bookmarks",
                                                    settings.last_folder("bookmarks"), BOOKMARK_FILTER)
        if not name:
            return
        settings.remember_folder(name, "bookmarks")
        stored: list[Bookmark] = []
        if not self._run(lambda: stored.extend(store.import_file(name))):
            return
        self.state.notice.emit(f"{len(stored)} bookmark{'s' * (len(stored) != 1)} imported from {name}")
        other = [bm.name for bm in stored if bm.decoder_mismatch]
        if other:
            QMessageBox.warning(self, "Bookmarks from another decoder",
                                f"{', '.join(other)}: made with another decoder than this workspace's "
                                "(marked ⚠); their vectors decode to other faces.")
