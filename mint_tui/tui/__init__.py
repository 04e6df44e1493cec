"""The Textual terminal app (``mint-tui`` with no command).

Only Textual and the standard library are imported at module level anywhere in this package:
torch, MediaPipe, OpenCV and the core modules that pull them in are imported inside workers
(see :mod:`mint_tui.tui.core`), so the first screen is drawn before they load.
"""
