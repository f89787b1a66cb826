"""gemviz: score, partition, evaluate and compare GUI-agent steps in and out of distribution."""

from __future__ import annotations

__version__ = "0.1.0"
