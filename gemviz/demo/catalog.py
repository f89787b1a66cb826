"""The made-up apps of the demo: their platforms, screens, widgets and phrases.

Everything the demo shows comes from this table, so changing a label here changes the
screenshot, the tasks that mention it and the ground-truth action together. Apps fall into
three roles: ``train`` apps (phone) make up the train set and the in-domain part of the test
set; ``unseen`` apps (phone) appear only in the test set; ``other`` apps run on the desktop or
on the web and also appear only in the test set.
"""

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

APPS: dict[str, AppSpec] = {
    app.name: app
    for app in (
        AppSpec(
            "Mail",
            PHONE,
            "train",
            (26, 115, 232),
            {
                "inbox": ScreenSpec(
                    "Inbox",
                    search="Search mail",
                    buttons=("Compose",),
                    root=True,
                    rows=(
                        "Lunch on Friday?|Anna Lee",
                        "Weekly digest|Team Updates",
                        "Statement ready|Bank Alerts",
                        "Your booking|Travel Co",
                        "Slides for Monday|Mark Chen",
                        "Spring deals|Newsletter",
                        "Holiday calendar|HR",
                        "New pull request|GitHub",
                    ),
                    tabs=("Mail", "Chat", "Meet"),
                ),
                "compose": ScreenSpec(
                    "New message",
                    inputs=("To", "Subject", "Message"),
                    buttons=("Send", "Attach"),
                ),
                "settings": ScreenSpec(
                    "Mail settings",
                    rows=(
                        "Notifications",
                        "Signature",
                        "Vacation responder",
                        "Theme",
                        "Accounts",
                        "Storage",
                        "Blocked senders",
                    ),
                ),
            },
            texts=(
                "anna@example.com",
                "Meeting notes",
                "See you at noon",
                "invoice",
                "mark@example.com",
                "Travel plans",
            ),
            aliases={
                "Compose": "write a new email",
                "Send": "send the email off",
                "Signature": "change how my emails are signed",
            },
        ),
        AppSpec(
            "Shop",
            PHONE,
            "train",
            (230, 81, 0),
            {
                "home": ScreenSpec(
                    "Shop",
                    search="Search products",
                    root=True,
                    rows=(
                        "Wireless earbuds|$49",
                        "Running shoes|$89",
                        "Coffee grinder|$35",
                        "Desk lamp|$24",
                        "Yoga mat|$19",
                        "Backpack|$59",
                        "Water bottle|$12",
                        "Phone case|$15",
                    ),
                    tabs=("Home", "Categories", "Cart", "Account"),
                ),
                "product": ScreenSpec(
                    "Product details",
                    buttons=("Add to cart", "Buy now"),
                    rows=(
                        "Reviews",
                        "Shipping options",
                        "Size guide",
                        "Similar items",
                        "Ask a question",
                    ),
                ),
                "cart": ScreenSpec(
                    "Cart",
                    inputs=("Promo code",),
                    buttons=("Checkout", "Continue shopping"),
                    rows=("Wireless earbuds|1 x $49", "Yoga mat|2 x $19", "Gift wrap|$3"),
                ),
            },
            texts=("running shoes", "SPRING10", "coffee beans", "umbrella", "headphones"),
            aliases={
                "Add to cart": "put this item in my basket",
                "Checkout": "pay for my order",
                "Reviews": "read what other buyers said",
            },
        ),
        AppSpec(
            "Maps",
            PHONE,
            "train",
            (15, 157, 88),
            {
                "explore": ScreenSpec(
                    "Explore",
                    search="Search here",
                    buttons=("Directions", "Saved places"),
                    root=True,
                    rows=(
                        "Restaurants",
                        "Gas stations",
                        "Coffee",
                        "Hotels",
                        "Parks",
                        "Pharmacies",
                        "Parking",
                    ),
                    tabs=("Explore", "Go", "Saved", "Updates"),
                ),
                "directions": ScreenSpec(
                    "Directions",
                    inputs=("Your location", "Choose destination"),
                    buttons=("Start", "Steps"),
                    rows=("By car|18 min", "By bus|35 min", "Walking|52 min", "Cycling|24 min"),
                ),
            },
            texts=("Central Station", "airport", "pizza near me", "City Museum", "Home"),
            aliases={
                "Directions": "get a route",
                "Start": "begin navigation",
                "Gas stations": "find somewhere to refuel",
            },
        ),
        AppSpec(
            "Music",
            PHONE,
            "train",
            (136, 14, 79),
            {
                "library": ScreenSpec(
                    "Library",
                    search="Search songs",
                    root=True,
                    rows=(
                        "Blue Skies|Ella Stone",
                        "Night Drive|The Comets",
                        "Paper Planes|Mira",
                        "Ocean Avenue|Yellow Card",
                        "Golden Hour|JVKE",
                        "Sunday Morning|Maroon Five",
                    ),
                    tabs=("Home", "Search", "Library"),
                ),
                "player": ScreenSpec(
                    "Now playing",
                    buttons=("Play", "Next", "Previous", "Shuffle"),
                    rows=("Lyrics", "Queue", "Add to playlist", "Share song"),
                ),
            },
            texts=("jazz", "Blue Skies", "workout mix", "podcasts", "lo-fi beats"),
            aliases={
                "Shuffle": "play songs in random order",
                "Lyrics": "see the words of the song",
                "Next": "skip this track",
            },
        ),
        AppSpec(
            "Notes",
            PHONE,
            "train",
            (245, 180, 0),
            {
                "list": ScreenSpec(
                    "Notes",
                    search="Search notes",
                    buttons=("New note",),
                    root=True,
                    rows=(
                        "Groceries|milk, eggs, bread",
                        "Ideas|app for plants",
                        "Books to read|3 items",
                        "Packing list|beach trip",
                        "Passwords hint|do not share",
                        "Recipes|pancakes",
                    ),
                ),
                "editor": ScreenSpec(
                    "Edit note",
                    inputs=("Title", "Note"),
                    buttons=("Save", "Share", "Delete"),
                ),
            },
            texts=("Buy milk", "Call mom", "Project ideas", "Gym at 7", "Shopping"),
            aliases={"New note": "start a blank note", "Delete": "throw this note away"},
        ),
        AppSpec(
            "Settings",
            PHONE,
            "train",
            (96, 125, 139),
            {
                "main": ScreenSpec(
                    "Settings",
                    search="Search settings",
                    root=True,
                    rows=(
                        "Wi-Fi",
                        "Bluetooth",
                        "Display",
                        "Sound",
                        "Battery",
                        "Storage",
                        "Privacy",
                        "About phone",
                    ),
                ),
                "wifi": ScreenSpec(
                    "Wi-Fi",
                    buttons=("Add network", "Scan"),
                    rows=(
                        "HomeNet|Connected",
                        "Cafe Guest|Open",
                        "Office-5G|Saved",
                        "Library Free|Open",
                    ),
                ),
            },
            texts=("brightness", "ringtone", "HomeNet", "dark mode", "battery saver"),
            aliases={
                "Wi-Fi": "open the wireless network settings",
                "Battery": "see what drains power",
                "Display": "change screen brightness options",
            },
        ),
        AppSpec(
            "Calendar",
            PHONE,
            "train",
            (63, 81, 181),
            {
                "month": ScreenSpec(
                    "March",
                    buttons=("New event", "Today"),
                    root=True,
                    rows=(
                        "Dentist|Tue 10:00",
                        "Team standup|Wed 9:30",
                        "Birthday party|Sat 18:00",
                        "Flight to Rome|Sun 7:15",
                        "Yoga class|Mon 19:00",
                    ),
                    tabs=("Day", "Week", "Month", "Schedule"),
                ),
                "new_event": ScreenSpec(
                    "New event",
                    inputs=("Event title", "Location", "Guests"),
                    buttons=("Save", "Cancel"),
                    rows=("All day", "Repeat", "Reminder"),
                ),
            },
            texts=("Dinner with Sam", "Room 204", "sam@example.com", "Weekly review"),
            aliases={"New event": "add something to my calendar", "Today": "jump back to today"},
        ),
        # Phone apps the train set never shows.
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
        AppSpec(
            "Files",
            DESKTOP,
            "other",
            (0, 120, 212),
            {
                "browser": ScreenSpec(
                    "Files",
                    search="Search Files",
                    root=True,
                    menu=("File", "Edit", "View", "Help"),
                    buttons=("New folder", "Copy", "Paste", "Delete", "Rename"),
                    sidebar=("Desktop", "Documents", "Downloads", "Pictures", "Music"),
                    rows=(
                        "report_2024.pdf|2.1 MB",
                        "budget.xlsx|48 KB",
                        "photo_001.jpg|3.4 MB",
                        "notes.txt|2 KB",
                        "slides.pptx|7.9 MB",
                        "archive.zip|120 MB",
                    ),
                ),
            },
            texts=("report", "Q3 backup", "*.pdf", "old photos"),
            aliases={
                "New folder": "make a directory here",
                "Delete": "move it to the bin",
                "Paste": "put the copied item here",
                "Downloads": "see what I fetched from the internet",
            },
            paraphrase=0.75,
        ),
        AppSpec(
            "Sheets",
            DESKTOP,
            "other",
            (16, 124, 65),
            {
                "sheet": ScreenSpec(
                    "Budget.xlsx",
                    root=True,
                    menu=("File", "Edit", "Insert", "Format", "Data"),
                    buttons=("Bold", "Italic", "Sum", "Sort", "Chart"),
                    inputs=("Cell name", "Formula bar"),
                    sidebar=("Sheet1", "Sheet2", "Summary"),
                    rows=(
                        "Rent|1200",
                        "Groceries|310",
                        "Transport|95",
                        "Utilities|140",
                        "Savings|500",
                    ),
                ),
            },
            texts=("=SUM(B2:B6)", "B7", "Total", "=AVERAGE(B2:B6)"),
            aliases={
                "Sum": "add up the selected cells",
                "Chart": "plot the numbers",
                "Sort": "put the rows in order",
                "Bold": "make the text heavier",
            },
            paraphrase=0.75,
        ),
        AppSpec(
            "Writer",
            DESKTOP,
            "other",
            (43, 87, 154),
            {
                "document": ScreenSpec(
                    "Letter.docx",
                    root=True,
                    menu=("File", "Edit", "Insert", "Tools", "Help"),
                    buttons=("Save", "Undo", "Redo", "Find", "Print"),
                    search="Find in document",
                    sidebar=("Outline", "Comments", "Pages"),
                    rows=("Dear Ms. Park,", "Thank you for your letter.", "Best regards,"),
                ),
            },
            texts=("Dear Sir", "regards", "Yours sincerely", "2024"),
            aliases={
                "Undo": "take back the last edit",
                "Print": "send it to the printer",
                "Find": "look for a word",
                "Save": "keep my changes",
            },
            paraphrase=0.75,
        ),
        AppSpec(
            "FlyNow",
            WEB,
            "other",
            (0, 91, 187),
            {
                "search": ScreenSpec(
                    "flynow.example",
                    root=True,
                    links=("Flights", "Hotels", "Car rental", "Sign in"),
                    inputs=("From", "To", "Depart", "Return"),
                    buttons=("Search flights",),
                    rows=(
                        "Paris from $89|Round trip",
                        "Lisbon from $120|Round trip",
                        "New York from $349|One way",
                        "Tokyo from $710|Round trip",
                    ),
                ),
            },
            texts=("Berlin", "Madrid", "12/05", "19/05"),
            aliases={
                "Search flights": "look for available flights",
                "Sign in": "log into my account",
                "Hotels": "look for a place to stay",
                "Car rental": "hire a car",
            },
            paraphrase=0.75,
        ),
        AppSpec(
            "DailyNews",
            WEB,
            "other",
            (33, 33, 33),
            {
                "front": ScreenSpec(
                    "dailynews.example",
                    root=True,
                    search="Search news",
                    links=("World", "Business", "Tech", "Sports", "Opinion"),
                    buttons=("Subscribe",),
                    rows=(
                        "Markets rally after rate decision|Business",
                        "New phone launches this fall|Tech",
                        "Local team wins the cup|Sports",
                        "Storm expected this weekend|Weather",
                    ),
                ),
            },
            texts=("elections", "climate", "stock market", "football"),
            aliases={
                "Subscribe": "sign up for the paper",
                "Tech": "read gadget stories",
                "Sports": "see the match results",
            },
            paraphrase=0.75,
        ),
        AppSpec(
            "StoreWeb",
            WEB,
            "other",
            (230, 81, 0),
            {
                "catalog": ScreenSpec(
                    "store.example",
                    root=True,
                    search="Search the store",
                    links=("Deals", "Electronics", "Home", "Account", "Cart"),
                    buttons=("Add to cart", "Compare"),
                    rows=(
                        "Smart watch|$199",
                        "Bluetooth speaker|$59",
                        "Air fryer|$89",
                        "Office chair|$149",
                    ),
                ),
            },
            texts=("laptop stand", "usb cable", "coffee maker"),
            aliases={
                "Compare": "see the products side by side",
                "Cart": "view my basket",
                "Deals": "browse the discounts",
                "Account": "manage my profile",
            },
            paraphrase=0.75,
        ),
    )
}


def apps_with_role(role: str) -> list[AppSpec]:
    """The apps of one role (``train``, ``unseen`` or ``other``), in catalogue order."""
    return [a for a in APPS.values() if a.role == role]
