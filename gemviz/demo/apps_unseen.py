"""The demo's phone apps that appear only in the test set."""

from __future__ import annotations

from gemviz.demo.catalog_types import PHONE, AppSpec, ScreenSpec

APPS: tuple[AppSpec, ...] = (
    AppSpec(
        "Bank",
        PHONE,
        "unseen",
        (0, 105, 92),
        {
            "accounts": ScreenSpec(
                "Accounts",
                buttons=("Transfer", "Pay bills"),
                root=True,
                rows=(
                    "Checking account|$2,340.12",
                    "Savings account|$10,200.00",
                    "Credit card|-$410.55",
                    "Investments|$5,120.77",
                ),
                tabs=("Accounts", "Payments", "Cards", "Profile"),
            ),
            "transfer": ScreenSpec(
                "Transfer",
                inputs=("Amount", "Recipient", "Reference"),
                buttons=("Send money", "Cancel"),
            ),
        },
        texts=("250", "Jane Smith", "rent March", "IBAN DE44 5001"),
        aliases={
            "Send money": "wire the funds now",
            "Pay bills": "settle my invoices",
            "Transfer": "move money between accounts",
            "Savings account": "check how much I have put aside",
            "Cards": "manage my plastic",
            "Recipient": "say who gets the money",
        },
        paraphrase=0.75,
    ),
    AppSpec(
        "Recipes",
        PHONE,
        "unseen",
        (198, 40, 40),
        {
            "browse": ScreenSpec(
                "Recipes",
                search="Search recipes",
                buttons=("Shopping list",),
                root=True,
                rows=(
                    "Lemon pasta|20 min",
                    "Chicken curry|45 min",
                    "Veggie tacos|25 min",
                    "Banana bread|70 min",
                    "Tomato soup|30 min",
                ),
                tabs=("Discover", "Saved", "Planner"),
            ),
            "recipe": ScreenSpec(
                "Lemon pasta",
                buttons=("Start cooking", "Save recipe"),
                rows=("Ingredients", "Steps", "Nutrition", "Comments"),
            ),
        },
        texts=("vegan dessert", "lasagna", "gluten free", "quick dinner"),
        aliases={
            "Start cooking": "begin the step-by-step guide",
            "Ingredients": "see what I need to buy for it",
            "Shopping list": "open my grocery checklist",
            "Save recipe": "keep this dish for later",
            "Nutrition": "check the calories",
        },
        paraphrase=0.75,
    ),
    AppSpec(
        "Fitness",
        PHONE,
        "unseen",
        (255, 87, 34),
        {
            "today": ScreenSpec(
                "Today",
                buttons=("Start workout", "Log meal"),
                root=True,
                rows=("Steps|6,512", "Heart rate|72 bpm", "Sleep|7h 10m", "Water|5 glasses"),
                tabs=("Today", "Workouts", "Progress"),
            ),
            "workout": ScreenSpec(
                "Workout",
                inputs=("Duration", "Notes"),
                buttons=("Pause", "Finish"),
                rows=("Running", "Cycling", "Swimming", "Strength"),
            ),
        },
        texts=("30 min", "morning run", "oatmeal", "45"),
        aliases={
            "Log meal": "record what I ate",
            "Start workout": "begin exercising",
            "Heart rate": "check my pulse",
            "Sleep": "see how I rested last night",
            "Finish": "end the session",
        },
        paraphrase=0.75,
    ),
    # Other platforms.
)
