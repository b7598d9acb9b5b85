"""The generator tab's scoreboard: one row per generated set, newest first.

The rows are :func:`latentexplorer.explore.scoreboard.entry` dicts — the numbers ``sample`` prints
and writes — so the GUI and the CLI never disagree. Sorting by any column compares generators.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

COLUMNS = [
    ("generator", "Generator and settings"),
    ("n", "Vectors drawn (the first ones are decoded and judged)"),
    ("radius", "Mean radius of the vectors (data: the encoded cloud; VAE: also the sampled z)"),
    ("MTCNN", "Share of decoded images in which MTCNN finds a face, 95 % Wilson interval"),
    ("conf", "MTCNN's mean confidence (0 where no face is found)"),
    ("Haar", "Share found by OpenCV's Haar cascade (lenient second opinion)"),
    ("variety", "Mean pairwise distance of the faces in the judge's feature space, relative to "
                "held-out real photos (1 = as varied as real photos)"),
    ("P / R / D / C", "Precision, recall, density and coverage against held-out real photos"),
    ("re-encode", "Median |encode(decode(z)) - z| relative to real z-points (1 = data-like)"),
    ("closeness", "Closeness to the encoded cloud and the training images (not a face measure)"),
]
MAX_ROWS = 200


class _Item(QTableWidgetItem):
    """A cell that sorts by its number (``Qt.UserRole``) when it has one."""

    def __lt__(self, other) -> bool:  # noqa: D105
        a, b = self.data(Qt.UserRole), other.data(Qt.UserRole)
        if a is not None and b is not None:
            return float(a) < float(b)
        return super().__lt__(other)


def _cell(text: str, value: float | None = None, tip: str = "") -> _Item:
    item = _Item(text)
    if value is not None:
        item.setData(Qt.UserRole, float(value))
        item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    if tip:
        item.setToolTip(tip)
    return item


def row_cells(e: dict) -> list[_Item]:
    """The table cells of one scoreboard entry."""
    settings = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in e.get("settings", {}).items())
    name = e["generator"] + (f" ({settings})" if settings else "")
    dr = e.get("data_radius") or {}
    rtip = f"data {dr['mean']:.2f}" if dr.get("mean") is not None else ""
    if dr.get("sampled_mean") is not None:
        rtip += f", sampled z {dr['sampled_mean']:.2f}"
    cells = [_cell(name, tip=f"seed {e.get('seed')}"), _cell(f"{e['n']:,}", e["n"]),
             _cell(f"{e['radius_mean']:.2f}", e["radius_mean"], rtip)]
    for key in ("mtcnn", "conf", "haar"):
        s = e.get("mtcnn" if key == "conf" else key)
        if not s:
            cells.append(_cell("–"))
        elif key == "conf":
            c = s.get("mean_confidence")
            cells.append(_cell("–" if c is None else f"{c:.2f}", c))
        else:
            lo, hi = s["interval"]
            cells.append(_cell(f"{s['rate']:.0%} [{lo:.0%}–{hi:.0%}]", s["rate"],
                               f"{s.get('detected', '?')} of {e.get('n_judged', '?')} images"))
    ratio = e.get("variety_ratio")
    cells.append(_cell("–" if ratio is None else f"×{ratio:.2f}", ratio,
                       "" if e.get("variety") is None else f"variety {e['variety']:.3f}"))
    c = e.get("coverage")
    cells.append(_cell("–" if not c else f"{c['precision']:.2f} / {c['recall']:.2f} / "
                       f"{c['density']:.2f} / {c['coverage']:.2f}", None if not c else c["coverage"]))
    for key in ("reencode_ratio", "closeness"):
        v = e.get(key)
        cells.append(_cell("–" if v is None else (f"×{v:.2f}" if key == "reencode_ratio" else f"{v:.2f}"), v))
    return cells


class ScoreboardTable(QTableWidget):
    """See the module docstring. :meth:`add` puts an entry on top."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([c for c, _ in COLUMNS])
        for k, (_, tip) in enumerate(COLUMNS):
            self.horizontalHeaderItem(k).setToolTip(tip)
        self.setToolTip("Scoreboard: one row per generated set (newest on top); click a header to sort")
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSortIndicator(-1, Qt.AscendingOrder)  # unsorted (newest on top) until a header click
        self.setSortingEnabled(True)
        self.entries: list[dict] = []

    def add(self, entry: dict) -> None:
        self.setSortingEnabled(False)  # a row is filled cell by cell: sort once it is complete
        self.entries.insert(0, entry)
        self.insertRow(0)
        for k, item in enumerate(row_cells(entry)):
            self.setItem(0, k, item)
        while self.rowCount() > MAX_ROWS:
            self.removeRow(self.rowCount() - 1)
            self.entries.pop()
        self.setSortingEnabled(True)

    def clear_entries(self) -> None:
        self.setRowCount(0)
        self.entries.clear()
