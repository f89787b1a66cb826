"""The made-up apps of the demo: their platforms, screens, widgets and phrases.

Everything the demo shows comes from this table, so changing a label here changes the
screenshot, the tasks that mention it and the ground-truth action together. Apps fall into
three roles: ``train`` apps (phone) make up the train set and the in-domain part of the test
set; ``unseen`` apps (phone) appear only in the test set; ``other`` apps run on the desktop or
on the web and also appear only in the test set.
"""

from __future__ import annotations

from gemviz.demo import apps_other, apps_train, apps_unseen
from gemviz.demo.catalog_types import DESKTOP, PHONE, WEB, AppSpec, ScreenSpec

__all__ = ["APPS", "DESKTOP", "PHONE", "WEB", "AppSpec", "ScreenSpec", "apps_with_role"]

APPS: dict[str, AppSpec] = {
    app.name: app for app in (*apps_train.APPS, *apps_unseen.APPS, *apps_other.APPS)
}


def apps_with_role(role: str) -> list[AppSpec]:
    """The apps of one role (``train``, ``unseen`` or ``other``), in catalogue order."""
    return [a for a in APPS.values() if a.role == role]
