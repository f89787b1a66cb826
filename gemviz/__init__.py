"""gemviz: score, partition, evaluate and compare agent steps in and out of distribution."""

__version__ = "0.1.0"
