"""Generate the demo's GUI steps: a screen, a task instruction and the ground-truth action.

A step picks an app and one of its screens, then an action the user wants and a phrasing of
it from :data:`TEMPLATES`. The ground truth is a canonical action dict (``type`` plus
``point``/``box`` for clicks, ``text`` for typing, ``direction`` for scrolls) whose click
point is the centre of the widget the task names.

The train set holds in-domain steps only (the ``train`` phone apps). The test set mixes
in-domain steps with three kinds of out-of-domain ones, told apart by the ``domain`` field:
``other platform`` (desktop and web apps), ``unseen app`` (phone apps the train set never
shows) and ``impossible`` (a task asking for a control the screen does not have).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from gemviz.demo.catalog import APPS, DESKTOP, PHONE, WEB, AppSpec, apps_with_role
from gemviz.demo.screens import CLICKABLE, TYPEABLE, Screen, Widget, layout

IN_DOMAIN, OTHER_PLATFORM, UNSEEN_APP, IMPOSSIBLE = (
    "in-domain",
    "other platform",
    "unseen app",
    "impossible",
)
DOMAINS = (IN_DOMAIN, OTHER_PLATFORM, UNSEEN_APP, IMPOSSIBLE)

# Share of each domain in the test set.
TEST_MIX: dict[str, float] = {
    IN_DOMAIN: 0.55,
    OTHER_PLATFORM: 0.17,
    UNSEEN_APP: 0.14,
    IMPOSSIBLE: 0.14,
}

# How often each kind of action is asked for.
ACTION_WEIGHTS: dict[str, float] = {
    "click": 0.55,
    "type": 0.16,
    "scroll": 0.09,
    "press_back": 0.07,
    "press_home": 0.05,
    "complete": 0.08,
}

# How many layouts (row orders) each screen comes in.
VARIANTS = 4

_PHONE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "click:button": (
        "Tap {label} in {app}",
        "In {app}, press the {label} button",
        "Open {app} and tap {label}",
    ),
    "click:row": (
        "Open {label} in {app}",
        "In {app}, select {label} from the list",
        "Tap on {label} in {app}",
    ),
    "click:tab": ("Switch to the {label} tab in {app}", "In {app}, go to {label}"),
    "click:icon": ("Open the {label} control in {app}",),
    "click:alias": ("In {app}, {alias}", "I want to {alias} in {app}"),
    "type:search": ('Search {app} for "{text}"', 'Look up "{text}" in {app}'),
    "type:input": (
        'Type "{text}" into the {label} field in {app}',
        'In {app}, enter "{text}" as {label}',
    ),
    "scroll:down": (
        "Scroll down the {title} list in {app}",
        "Show more items on the {title} screen of {app}",
    ),
    "scroll:up": ("Scroll up to the top of {title} in {app}",),
    "press_back": ("Go back from {title} in {app}", "Return to the previous screen in {app}"),
    "press_home": ("Leave {app} and go to the home screen", "Close {app} and return home"),
    "complete": (
        "Check that {title} is open in {app}",
        "{title} in {app} is already showing; finish the task",
    ),
    "impossible": (
        "Tap {label} in {app}",
        "In {app}, press the {label} button",
        "Open {label} in {app}",
    ),
}

# Desktop and web users describe the mouse, the window and the page, which makes these
# tasks read differently from the phone ones (longer, other words) as real ones do.
_COMPUTER_TEMPLATES: dict[str, tuple[str, ...]] = {
    "click:button": (
        "With the mouse, click the {label} button in the toolbar of the {app} {where}",
        "In the {app} {where}, move the pointer to {label} and click it",
    ),
    "click:row": (
        "Double-click the entry {label} in the main area of the {app} {where}",
        "Using the mouse, select the line {label} in the {app} {where}",
    ),
    "click:menu": (
        "Open the {label} menu in the menu bar of the {app} {where}",
        "Click {label} in the menu bar at the top of the {app} {where}",
    ),
    "click:link": (
        "Follow the {label} link in the header of the {app} {where}",
        "Navigate to the {label} section of the {app} {where} by clicking its link",
    ),
    "click:nav": (
        "Show {label} by clicking it in the left sidebar of the {app} {where}",
        "Click {label} in the navigation pane on the left of the {app} {where}",
    ),
    "click:icon": ("Click the back arrow of the web browser left of the address bar",),
    "click:alias": ("Working in the {app} {where}, {alias}",),
    "type:search": ('Use the search box of the {app} {where} to find "{text}" with the keyboard',),
    "type:input": (
        'Click into the {label} box of the {app} {where} and enter "{text}" with the keyboard',
        'Fill the {label} box of the {app} {where} with "{text}"',
    ),
    "scroll:down": (
        "Scroll down in the {app} {where} with the mouse wheel",
        "Scroll the content of the {app} {where} down to see the rest",
    ),
    "scroll:up": ("Scroll the {app} {where} back up with the mouse wheel",),
    "press_back": ("Go back to the previous page with the web browser's back navigation",),
    "press_home": ("Minimise the {app} {where} and show the desktop",),
    "complete": ("Confirm that the {title} view of the {app} {where} is open; nothing else to do",),
    "impossible": ("With the mouse, click the {label} button in the {app} {where}",),
}

# How computer tasks name the place they happen in.
_WHERE: dict[str, str] = {DESKTOP: "desktop application window", WEB: "website in the browser"}

# Phrasings per platform; unseen phone apps use the phone phrasings.
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    PHONE: _PHONE_TEMPLATES,
    DESKTOP: _COMPUTER_TEMPLATES,
    WEB: _COMPUTER_TEMPLATES,
}

# Actions that make sense per platform (a web page has no home button of its own).
_PLATFORM_ACTIONS: dict[str, tuple[str, ...]] = {
    PHONE: ("click", "type", "scroll", "press_back", "press_home", "complete"),
    DESKTOP: ("click", "type", "scroll", "complete"),
    WEB: ("click", "type", "scroll", "press_back", "complete"),
}


@dataclass
class Step:
    """One generated step; :meth:`record` turns it into a test/train record."""

    id: str
    task: str
    screen: Screen
    action: dict[str, Any]
    domain: str

    def record(self, image_path: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "task": self.task,
            "image_path": image_path,
            "action": self.action,
            "platform": self.screen.platform,
            "app": self.screen.app,
            "domain": self.domain,
            "screen": self.screen.key,
        }


def click_action(widget: Widget) -> dict[str, Any]:
    """The canonical click on ``widget``'s centre, with its box."""
    x, y = widget.center
    return {
        "type": "click",
        "point": [round(x, 4), round(y, 4)],
        "box": [round(v, 4) for v in widget.box],
    }


class StepMaker:
    """Draws steps at random, keeping one :class:`Screen` per (app, screen, variant)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.screens: dict[str, Screen] = {}

    def screen(self, app: AppSpec, variants: int = VARIANTS) -> Screen:
        name = self.rng.choice(list(app.screens))
        screen = layout(app, name, self.rng.randrange(variants))
        return self.screens.setdefault(screen.key, screen)

    def step(self, sid: str, app: AppSpec, domain: str) -> Step:
        """A feasible step in ``app`` (any domain but impossible)."""
        screen = self.screen(app)
        templates = TEMPLATES[app.platform]
        rows = [w for w in screen.widgets if w.kind == "row"]
        typeable = [w for w in screen.widgets if w.kind in TYPEABLE]
        allowed = {
            "click": True,
            "type": bool(typeable),
            "scroll": len(rows) >= 3,
            "press_back": not screen.root or app.platform == WEB,
            "press_home": True,
            "complete": True,
        }
        kinds = [k for k in _PLATFORM_ACTIONS[app.platform] if allowed[k]]
        kind = self.rng.choices(kinds, weights=[ACTION_WEIGHTS[k] for k in kinds])[0]
        fill = {"app": app.name, "title": screen.title, "where": _WHERE.get(app.platform, "")}
        if kind == "click":
            action, key, extra = self._click(screen, app)
            fill.update(extra)
        elif kind == "type":
            widget = self.rng.choice(typeable)
            text = self.rng.choice(app.texts)
            action = {"type": "type", "text": text}
            key = f"type:{widget.kind}"
            fill.update(label=widget.label, text=text)
        elif kind == "scroll":
            direction = self.rng.choice(("down", "down", "down", "up"))
            action = {"type": "scroll", "direction": direction}
            key = f"scroll:{direction}"
        else:
            action, key = {"type": kind}, kind
        task = self.rng.choice(templates[key]).format(**fill)
        return Step(sid, task, screen, action, domain)

    def _click(self, screen: Screen, app: AppSpec) -> tuple[dict[str, Any], str, dict[str, str]]:
        widgets = [w for w in screen.widgets if w.kind in CLICKABLE]
        # Icons carry no visible text, so they are asked for rarely.
        weights = [0.2 if w.kind == "icon" else 1.0 for w in widgets]
        widget = self.rng.choices(widgets, weights=weights)[0]
        alias = app.aliases.get(widget.label)
        if alias and self.rng.random() < app.paraphrase:
            return click_action(widget), "click:alias", {"alias": alias}
        label = widget.label
        if widget.kind == "icon":
            label = "back" if label in ("Back", "Navigate up") else label.lower()
        return click_action(widget), f"click:{widget.kind}", {"label": label}

    def impossible(self, sid: str, app: AppSpec, foreign: list[str]) -> Step:
        """A step asking for a control that ``app``'s screen lacks."""
        screen = self.screen(app)
        present = {w.label.lower() for w in screen.widgets}
        # Half ask for a control of another screen of the same app, which reads like a
        # feasible task; the rest for something the app does not have at all.
        own = [f for f in _labels(app) if f.lower() not in present]
        pool = own if own and self.rng.random() < 0.5 else foreign
        label = self.rng.choice([f for f in pool if f.lower() not in present])
        task = self.rng.choice(TEMPLATES[app.platform]["impossible"]).format(
            label=label, app=app.name
        )
        return Step(sid, task, screen, {"type": "impossible"}, IMPOSSIBLE)


def _labels(app: AppSpec) -> list[str]:
    """Button and row labels of every screen of ``app``."""
    labels: set[str] = set()
    for spec in app.screens.values():
        labels.update(spec.buttons)
        labels.update(r.partition("|")[0] for r in spec.rows)
    return sorted(labels)


def _foreign_labels(app: AppSpec) -> list[str]:
    """Labels of every other app: what an impossible task may ask for."""
    return sorted(
        {lab for other in APPS.values() if other.name != app.name for lab in _labels(other)}
    )


def generate_steps(
    n_train: int, n_test: int, seed: int = 42
) -> tuple[list[Step], list[Step], dict[str, Screen]]:
    """Generate the train and test steps.

    Args:
        n_train: Number of train steps (in-domain phone apps only).
        n_test: Number of test steps, split by :data:`TEST_MIX` (at least one of each domain
            once ``n_test >= 4``).
        seed: Seed of the random draws; the same arguments give the same steps.

    Returns:
        ``(train, test, screens)``: the steps and every screen they use, by screen key.

    Raises:
        ValueError: ``n_train`` or ``n_test`` is below 1.
    """
    if n_train < 1 or n_test < 1:
        raise ValueError("n_train and n_test must be at least 1")
    rng = random.Random(seed)
    maker = StepMaker(rng)
    train_apps = apps_with_role("train")
    train = [
        maker.step(f"train-{i:05d}", rng.choice(train_apps), IN_DOMAIN) for i in range(n_train)
    ]
    counts = {d: round(n_test * share) for d, share in TEST_MIX.items()}
    if n_test >= len(DOMAINS):
        for d in DOMAINS:
            counts[d] = max(counts[d], 1)
    counts[IN_DOMAIN] = max(0, n_test - sum(v for d, v in counts.items() if d != IN_DOMAIN))
    plan = [d for d, n in counts.items() for _ in range(n)][:n_test]
    rng.shuffle(plan)
    pools = {
        IN_DOMAIN: train_apps,
        UNSEEN_APP: apps_with_role("unseen"),
        OTHER_PLATFORM: apps_with_role("other"),
    }
    foreign = {name: _foreign_labels(app) for name, app in APPS.items()}
    test = []
    for i, domain in enumerate(plan):
        sid = f"test-{i:05d}"
        if domain == IMPOSSIBLE:
            app = rng.choice(train_apps)
            test.append(maker.impossible(sid, app, foreign[app.name]))
        else:
            test.append(maker.step(sid, rng.choice(pools[domain]), domain))
    return train, test, maker.screens
