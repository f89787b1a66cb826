"""The demo's desktop and web apps, only in the test set."""

from __future__ import annotations

from gemviz.demo.catalog_types import DESKTOP, WEB, AppSpec, ScreenSpec

APPS: tuple[AppSpec, ...] = (
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
