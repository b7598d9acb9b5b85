"""The explorer stopped by a signal closes like File > Quit: no traceback, exit 128 + signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from latentexplorer.gui import app

    hook = app._close_on_stop_signals

    def announce(win):
        stopped = hook(win)
        QTimer.singleShot(300, lambda: print("READY", flush=True))
        return stopped

    app._close_on_stop_signals = announce
    sys.exit(app.run_gui(None))
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_stop_signal_closes_the_window_cleanly(tmp_path, sig):
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "READY"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
