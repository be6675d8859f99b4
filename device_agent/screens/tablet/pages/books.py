"""Books: the shelf of covers with reading progress, or the opening page of a book."""

from __future__ import annotations

from functools import partial

from ...base import Rect
from ..apps import Apps
from ..art import app_icon, cover, rrect_mask
from ..canvas import Canvas
from ..model import BOOKS
from ..text import wrap
from ..theme import CONTENT_TOP, HEIGHT, PRIMARY, SURFACE, TEXT_COLOR, TEXT_MUTED, WIDTH
from ..widgets import Hotspot, ignore_point
from .bars import paint_title_bar

__all__ = ["paint_books"]


def paint_books(a: Apps, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
    paint_title_bar(a, c, hot, "Books")
    if a.book is not None:
        book = BOOKS[a.book]
        c.rect(0, CONTENT_TOP, WIDTH, HEIGHT - CONTENT_TOP, (250, 247, 240))
        col_x, col_w = 240, 800
        c.text(col_x, 136, book.title.upper() + "  ·  " + book.author, 14, TEXT_MUTED, "lm")
        c.text(col_x, 186, "Chapter 1", 32, TEXT_COLOR, "lm", bold=True)
        y = 236
        for paragraph in book.opening:
            for line in wrap(paragraph, 22, col_w):
                c.text(col_x, y, line, 22, (48, 44, 40), "la")
                y += 36
            y += 18
        pages = 180 + 37 * a.book
        c.text(
            WIDTH / 2,
            690,
            f"Page {round(pages * book.progress) + 1} of {pages}",
            15,
            TEXT_MUTED,
            "mm",
        )
        return
    c.text(64, 132, "Continue reading", 22, TEXT_COLOR, "lm", bold=True)
    c.text(WIDTH - 64, 132, f"{len(BOOKS)} books", 16, TEXT_MUTED, "rm")
    cw, ch, gap = 150, 225, 44
    left = (WIDTH - len(BOOKS) * cw - (len(BOOKS) - 1) * gap) // 2
    top = 168
    for i, book in enumerate(BOOKS):
        x = left + i * (cw + gap)
        c.shadow(x, top, cw, ch, 6, blur=10, alpha=0.3, dy=6)
        c.image.paste(cover(i, cw, ch), (x, top), rrect_mask(cw, ch, 6))
        y = top + ch + 22
        for line in wrap(book.title, 17, cw)[:2]:
            c.text(x, y, line, 17, TEXT_COLOR, "lm", bold=True)
            y += 22
        c.text(x, y, book.author, 15, TEXT_MUTED, "lm")
        c.rrect(x, y + 18, cw, 4, 2, (222, 225, 232))
        c.rrect(x, y + 18, max(4, round(cw * book.progress)), 4, 2, PRIMARY)
        hot.append(
            Hotspot(
                f"books.book.{book.slug}",
                Rect(x, top, cw, ch + 90),
                tap=ignore_point(partial(a.open_book, i)),
            )
        )
    c.rrect(64, 556, WIDTH - 128, 120, 20, SURFACE)
    c.circle(120, 616, 28, (255, 240, 224))
    c.sprite(app_icon("books", 36), 102, 598)
    c.text(168, 600, "Borrow e-books from your library", 19, TEXT_COLOR, "lm", bold=True)
    c.text(
        168,
        630,
        "Your City Library card works here too. Ask us how with the Help button.",
        16,
        TEXT_MUTED,
        "lm",
    )
