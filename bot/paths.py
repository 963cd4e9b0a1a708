"""Where the project's files are: the one place that knows the folder layout."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOMAIN_PATH = PROJECT_ROOT / "domain"  # one file per topic; Rasa merges the folder
