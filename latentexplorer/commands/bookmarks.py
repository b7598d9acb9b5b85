"""``latentexplorer bookmarks``: list, export, import, rename and delete the explorer's bookmarks.

Bookmarks are named explorer states (plane, current vector, path, selection, generator settings and
seed, decoder fingerprint) kept in ``WS/bookmarks.json``; the GUI's Bookmarks panel makes them.
``export`` writes some or all of them to a JSON file of the same format, ``import`` adds the
bookmarks of such a file after checking every field against the workspace (all or none); a
bookmark made with another decoder is imported with a warning and flagged. See docs/bookmarks.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..inputs import printable
from . import _args


def register(subparsers) -> None:
    p = subparsers.add_parser("bookmarks", help="list, export and import the explorer's bookmarks",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workspace", metavar="WS", required=True, help="a workspace")
    _args.add_wait(p)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="one line per bookmark")
    exp = actions.add_parser("export", help="write bookmarks to a JSON file")
    exp.add_argument("--out", type=Path, required=True, metavar="FILE.json", help="file to write")
    exp.add_argument("--name", action="append", metavar="NAME", default=None,
                     help="a bookmark to export (repeat for more; default: all)")
    imp = actions.add_parser("import", help="add the bookmarks of a JSON file")
    imp.add_argument("file", type=Path, metavar="FILE.json", help="a file written by export")
    imp.add_argument("--replace", action="store_true",
                     help="replace bookmarks of the same name (default: the imported one is renamed)")
    ren = actions.add_parser("rename", help="rename a bookmark")
    ren.add_argument("old", metavar="NAME")
    ren.add_argument("new", metavar="NEW_NAME")
    dele = actions.add_parser("delete", help="delete a bookmark")
    dele.add_argument("name", metavar="NAME")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..explore.bookmarks import BookmarkStore
    from ..workspace import Workspace

    ws = Workspace.open(args.workspace)
    store = BookmarkStore.for_workspace(ws, wait=_args.wait_seconds(args))
    where = printable(store.path)
    if args.action == "list":
        items = store.bookmarks()
        for bm in items:
            print(f"{printable(bm.name)}: {bm.summary()}")
        if not items:
            print(f"bookmarks: none in {where}")
    elif args.action == "export":
        items = store.export(args.out, args.name)
        print(f"bookmarks: {len(items)} exported to {printable(args.out)}")
    elif args.action == "import":
        stored = store.import_file(args.file, replace=args.replace)
        for bm in stored:
            if bm.decoder_mismatch:
                _args.warn(f"{printable(bm.name)}: made with decoder {bm.decoder_fingerprint}, the "
                           f"workspace's decoder is {store.decoder_fingerprint}; the faces will differ")
        names = ", ".join(printable(bm.name) for bm in stored)
        print(f"bookmarks: {len(stored)} imported into {where}" + (f" ({names})" if stored else ""))
    elif args.action == "rename":
        store.rename(args.old, args.new)
        print(f"bookmarks: {printable(args.old)!r} renamed to {printable(args.new.strip())!r}")
    else:
        store.delete(args.name)
        print(f"bookmarks: {printable(args.name)!r} deleted from {where}")
    return 0
