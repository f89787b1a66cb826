"""Files in, checked records out: reading and writing safely, sample ids, clusters, the study.

The lowest layer: nothing here imports another gemviz package.
"""
