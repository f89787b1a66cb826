"""Entry point for ``python -m gemviz``."""

from __future__ import annotations

import sys

from gemviz.commands.cli import main

if __name__ == "__main__":
    sys.exit(main())
