"""Process-wide set-up applied before TensorFlow is imported: quiet logs, a quiet import.

Import this module before ``tensorflow`` or ``keras`` (the package's ``__init__`` has already set
``TF_CPP_MIN_LOG_LEVEL`` and ``KERAS_BACKEND``); it imports both itself, with the C++ start-up
lines TensorFlow writes straight to file descriptor 2 (CPU-feature and oneDNN notes, absl's
"before InitializeLog" warning, the CUDA platform's probe on machines without a GPU) captured: a CLI error must be the only line the user sees. The
captured text is shown only when the import fails.
"""

import os
import sys
import tempfile


def _quiet_import() -> None:
    if "tensorflow" in sys.modules:
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr: nothing to capture
        import tensorflow  # noqa: F401
        import keras  # noqa: F401
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow
            import keras  # noqa: F401

            # the devices are probed here, not at the first model: the tensorflow wheel's CUDA
            # platform writes "failed call to cuInit" on machines without a GPU driver
            tensorflow.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_quiet_import()


def _quiet_retracing_note() -> None:
    # every Decoder/Encoder traces its own tf.function (one per model, by design: a new epoch's
    # weights are a new model); TensorFlow's "N out of the last M calls ... triggered retracing"
    # note counts them all together and would reach the terminal after the fifth epoch in the GUI
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)


_quiet_retracing_note()
