"""Starts Rasa's own command line (``rasa run ...``) with this project's patches.

Patient data is kept out of its logs by :func:`bot.log_privacy.install_log_privacy`,
installed before Rasa configures logging; ``LOG_LEVEL`` sets Rasa's level.
The patches (action calls bounded in time and answered when they fail, a
faster response check, two requests in one message) and the Rasa version check
live in :mod:`bot.rasa_coupling`, the one module that touches Rasa's insides.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bot.settings import PROJECT_ROOT


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``rasa`` with the given arguments (e.g. ``run --model ...``), patched, its logs redacted."""
    from bot.log_privacy import install_log_privacy
    from bot.settings import get_settings

    install_log_privacy(get_settings())  # before Rasa configures logging: every record, structlog's too

    from bot.rasa_coupling import install_patches

    install_patches()
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from rasa.__main__ import main as rasa_main

    arguments: list[str] = list(argv if argv is not None else sys.argv[1:])
    sys.argv = ["rasa", *arguments]
    rasa_main()


if __name__ == "__main__":
    main()
