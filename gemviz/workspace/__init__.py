"""Workspaces: a study saved on disk (test set, splitters, models, notes).

:mod:`.entries` what ``workspace.json`` records, :mod:`.store` one workspace, :mod:`.catalog`
all of them, :mod:`.create` new workspaces and splitters from files, :mod:`.models` and
:mod:`.derive` result files and their field mapping, :mod:`.files` the checks every added
file passes, :mod:`.annotations` tags and notes.
"""
