"""The demo's phone apps of the train set (also the in-domain part of the test set)."""

from __future__ import annotations

from gemviz.demo.catalog_types import PHONE, AppSpec, ScreenSpec

APPS: tuple[AppSpec, ...] = (
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
)
