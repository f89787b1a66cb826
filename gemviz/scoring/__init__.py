"""Model work on a whole data set: embeddings and input scores, agent predictions, jobs.

:mod:`.score` embeds train and test files and writes their input scores, :mod:`.store` keeps
the embeddings on disk (resumable cache), :mod:`.predict` runs an agent on every test step and
:mod:`.jobs` runs scoring in the background for the dashboard.
"""
