"""gemviz: score, partition, evaluate and compare GUI-agent steps in and out of distribution."""

# No ``from __future__ import annotations`` here: it would bind the name ``annotations`` in
# this package and hide the submodule from ``from gemviz import annotations``.

__version__ = "0.1.0"
