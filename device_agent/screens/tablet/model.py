"""What the tablet's apps show and report: the state types, devices, books, mails and app list.

Plain data, no drawing: the screen reads it to build the apps and :meth:`SimulatedTablet.state`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypedDict

from ...customer import Phase
from .theme import RGB

App = Literal["home", "settings", "books", "mail", "browser", "photos", "signin"]
FieldName = Literal["email", "password"]


class TabletFields(TypedDict):
    email: str
    password: str


class TabletState(TypedDict):
    current_app: App
    wifi: bool
    bluetooth: bool
    brightness: int
    focused_field: FieldName | None
    fields: TabletFields
    signed_in_as: str | None
    sign_in_error: str | None
    paired_devices: list[str]
    scroll_offset: int
    """How far the Bluetooth device list is scrolled, in pixels."""
    scroll_max: int
    open_book: str | None
    selected_mail: int
    open_photo: int | None
    rating: int | None
    """The stars the customer gave on the current rating card, if any."""
    customer_phase: Phase
    customer_draft: str
    """What the customer is typing with the on-screen keyboard (a chat line, a rating comment)."""


@dataclass(frozen=True)
class _Device:
    name: str
    kind: str

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")


DEVICES: tuple[_Device, ...] = (
    _Device("Kitchen Speaker", "speaker"),
    _Device("Headphones", "headphones"),
    _Device("Car Kit", "car"),
    _Device("Living Room TV", "tv"),
    _Device("Bedroom Speaker", "speaker"),
    _Device("Fitness Band", "watch"),
    _Device("Keyboard", "keyboard"),
    _Device("Game Controller", "gamepad"),
    _Device("Soundbar", "speaker"),
    _Device("Smart Watch", "watch"),
)


@dataclass(frozen=True)
class _Book:
    title: str
    author: str
    colour: RGB
    progress: float
    opening: tuple[str, ...]

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.title.lower()).strip("_")


BOOKS: tuple[_Book, ...] = (
    _Book(
        "Pride and Prejudice",
        "Jane Austen",
        (142, 68, 92),
        0.43,
        (
            "It is a truth universally acknowledged, that a single man in possession of a good "
            "fortune, must be in want of a wife.",
            "However little known the feelings or views of such a man may be on his first "
            "entering a neighbourhood, this truth is so well fixed in the minds of the "
            "surrounding families, that he is considered as the rightful property of some one "
            "or other of their daughters.",
        ),
    ),
    _Book(
        "Moby Dick",
        "Herman Melville",
        (32, 84, 128),
        0.12,
        (
            "Call me Ishmael. Some years ago, never mind how long precisely, having little or no "
            "money in my purse, and nothing particular to interest me on shore, I thought I "
            "would sail about a little and see the watery part of the world.",
            "It is a way I have of driving off the spleen and regulating the circulation.",
        ),
    ),
    _Book(
        "Alice in Wonderland",
        "Lewis Carroll",
        (46, 125, 92),
        0.78,
        (
            "Alice was beginning to get very tired of sitting by her sister on the bank, and of "
            "having nothing to do: once or twice she had peeped into the book her sister was "
            "reading, but it had no pictures or conversations in it, ‘and what is the use of a "
            "book,’ thought Alice ‘without pictures or conversations?’",
        ),
    ),
    _Book(
        "The Time Machine",
        "H. G. Wells",
        (86, 72, 160),
        0.05,
        (
            "The Time Traveller (for so it will be convenient to speak of him) was expounding a "
            "recondite matter to us. His pale grey eyes shone and twinkled, and his usually pale "
            "face was flushed and animated.",
        ),
    ),
    _Book(
        "Frankenstein",
        "Mary Shelley",
        (60, 60, 66),
        0.61,
        (
            "You will rejoice to hear that no disaster has accompanied the commencement of an "
            "enterprise which you have regarded with such evil forebodings.",
            "I arrived here yesterday, and my first task is to assure my dear sister of my "
            "welfare and increasing confidence in the success of my undertaking.",
        ),
    ),
    _Book(
        "Treasure Island",
        "R. L. Stevenson",
        (176, 102, 26),
        0.27,
        (
            "Squire Trelawney, Dr. Livesey, and the rest of these gentlemen having asked me to "
            "write down the whole particulars about Treasure Island, from the beginning to the "
            "end, keeping nothing back but the bearings of the island, I take up my pen.",
        ),
    ),
)


@dataclass(frozen=True)
class _Mail:
    sender: str
    address: str
    subject: str
    time: str
    body: tuple[str, ...]


MAILS: tuple[_Mail, ...] = (
    _Mail(
        "City Library",
        "loans@citylibrary.example",
        "Your reserved book is ready",
        "09:12",
        (
            "Hello,",
            "The book you reserved, The Time Machine, is ready for you. You can borrow it in "
            "the Books app or pick up the printed copy at the front desk within seven days.",
            "Happy reading,\nYour City Library",
        ),
    ),
    _Mail(
        "Maria Keller",
        "maria.keller@example.com",
        "Sunday lunch",
        "Yesterday",
        (
            "Hi!",
            "Are you still coming on Sunday? We are planning lunch at one. Bring the photos from "
            "the lake if you can, the children would love to see them.",
            "Love,\nMaria",
        ),
    ),
    _Mail(
        "Tablet Tips",
        "tips@tablet.example",
        "Three things to try this week",
        "Mon",
        (
            "Make the screen easier on the eyes: open Settings and drag the brightness slider.",
            "Connect a speaker: turn on Bluetooth in Settings and tap Pair next to it.",
            "Need a hand? Tap the Help button and someone will guide you.",
        ),
    ),
    _Mail(
        "Health Centre",
        "appointments@health.example",
        "Appointment reminder",
        "Mon",
        (
            "This is a reminder of your appointment on Thursday at 10:30.",
            "If you cannot come, please call us or reply to this message.",
        ),
    ),
    _Mail(
        "Photo Club",
        "club@photos.example",
        "Autumn walk photos",
        "Sun",
        (
            "Thank you to everyone who joined the autumn walk! The best photos are in the club "
            "album now. Next month we meet at the old harbour.",
        ),
    ),
    _Mail(
        "Electricity Co.",
        "billing@power.example",
        "Your monthly statement",
        "Fri",
        ("Your statement for last month is ready. Nothing to do: it is paid by direct debit.",),
    ),
)

APPS: tuple[tuple[App, str], ...] = (
    ("settings", "Settings"),
    ("books", "Books"),
    ("mail", "Mail"),
    ("browser", "Browser"),
    ("photos", "Photos"),
    ("signin", "Account"),
)
PHOTO_COUNT = 15
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELD_MAX = 64
