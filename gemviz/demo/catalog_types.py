"""The types of the demo catalogue (see :mod:`gemviz.demo.catalog`): an app and its screens."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScreenSpec:
    """What one screen holds; the platform's layout decides where each part goes.

    Rows are written ``"Label"`` or ``"Label|secondary line"``; only the label is a target.
    """

    title: str
    search: str | None = None
    inputs: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()
    tabs: tuple[str, ...] = ()
    menu: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    sidebar: tuple[str, ...] = ()
    root: bool = False


@dataclass(frozen=True)
class AppSpec:
    """One app: where it runs, its role in the demo, its screens and what users type in it.

    Apps outside the train set get a higher ``paraphrase`` rate: their users describe what
    they want in their own words, which is much of what makes a domain new to an agent.
    """

    name: str
    platform: str
    role: str
    accent: tuple[int, int, int]
    screens: dict[str, ScreenSpec]
    texts: tuple[str, ...]
    aliases: dict[str, str] = field(default_factory=dict)
    # How often a task names a control by its alias (a paraphrase) instead of its label.
    paraphrase: float = 0.4


PHONE, DESKTOP, WEB = "phone", "desktop", "web"
