"""A banner above the explorer that says when the shown z-points no longer match the model or the
dataset, with the action that fixes it (*Re-encode now*)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


class StaleBanner(QFrame):
    """Hidden until :meth:`show_message`; ``reencodeRequested`` when the button is clicked."""

    reencodeRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("stale_banner")
        self.setStyleSheet("#stale_banner { background: #fff3cd; border: 1px solid #e0b000; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton("Re-encode now")
        self.button.setToolTip("Encode the dataset with the committed model (runs in the background)")
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.setToolTip("Hide this note (the z-points stay as they are)")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.button)
        lay.addWidget(self.dismiss)
        self.button.clicked.connect(self.reencodeRequested)
        self.dismiss.clicked.connect(self.hide)
        self.hide()

    def show_message(self, text: str | None) -> None:
        """Show ``text`` (None hides the banner)."""
        if not text:
            self.hide()
            return
        self.label.setText(f"<b>The z-points are out of date:</b> {text}.")
        self.show()
