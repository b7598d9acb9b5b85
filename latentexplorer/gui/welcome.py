"""The page shown before a workspace is open: what the explorer does and the ways to start."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

INTRO = (
    "<h2>LatentExplorer</h2>"
    "<p>Train a convolutional autoencoder or VAE on face images and explore its latent space: the "
    "z-points of every image in any latent or PCA plane, their confidence ellipses, generated "
    "z-vectors, and the face the decoder makes of any point you click, drag or sample.</p>"
    "<p><b>New from synthetic faces</b> generates 5,000 procedural faces (no download), trains a "
    "small model on them in the background (a few minutes on a CPU) and opens it. "
    "<b>Open workspace</b> opens a folder made by <code>latentexplorer train</code> or "
    "<code>latentexplorer quickstart DIR</code> (then open <code>DIR/workspace</code>).</p>")


class WelcomePage(QWidget):
    """Signals: ``newRequested``, ``openRequested``, ``recentChosen(path)``."""

    newRequested = Signal()
    openRequested = Signal()
    recentChosen = Signal(str)

    def __init__(self, recent: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.RichText)
        self.new_button = QPushButton("New from synthetic faces…   (Ctrl+N)")
        self.new_button.setToolTip("Generate synthetic faces and train a model on them in the background")
        self.open_button = QPushButton("Open workspace…   (Ctrl+O)")
        self.open_button.setToolTip("Open a workspace folder (it holds config.json)")
        self.recent = QListWidget()
        self.recent.setToolTip("Workspaces opened before: double-click (or Enter) to open")
        self.recent.addItems(recent)
        self.recent_label = QLabel("Recent workspaces")
        for w in (self.recent, self.recent_label):
            w.setVisible(bool(recent))
        box = QWidget()
        box.setMaximumWidth(620)
        lay = QVBoxLayout(box)
        lay.addWidget(intro)
        lay.addWidget(self.new_button)
        lay.addWidget(self.open_button)
        lay.addSpacing(8)
        lay.addWidget(self.recent_label)
        lay.addWidget(self.recent)
        lay.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addWidget(box, 0, Qt.AlignHCenter | Qt.AlignTop)
        self.new_button.clicked.connect(self.newRequested)
        self.open_button.clicked.connect(self.openRequested)
        self.recent.itemActivated.connect(  # double-click or Enter
            lambda item: self.recentChosen.emit(item.text()))

    @staticmethod
    def name(path: str) -> str:
        return Path(path).name
