"""Mail: the inbox on the left, the selected message on the right."""

from __future__ import annotations

from functools import partial

from ...base import Rect
from ..apps import Apps
from ..canvas import Canvas
from ..model import MAILS
from ..text import fit, wrap
from ..theme import (  # every page starts alike: theme names, then a Painter (.bars)
    CONTENT_TOP,
    DIVIDER,
    HEIGHT,
    PRIMARY,
    PRIMARY_LIGHT,
    STATUS_H,
    SURFACE,
    TEXT_COLOR,
    TEXT_MUTED,
    TITLE_H,
    WIDTH,
)
from ..widgets import Hotspot, ignore_point
from .bars import paint_title_bar

__all__ = ["paint_mail"]


def paint_mail(a: Apps, c: Canvas, hot: list[Hotspot], _sensitive: list[Rect]) -> None:
    paint_title_bar(a, c, hot, "Mail")
    c.text(WIDTH - 32, STATUS_H + TITLE_H // 2, "Inbox", 18, TEXT_MUTED, "rm")
    list_w = 440
    c.rect(0, CONTENT_TOP, list_w, HEIGHT - CONTENT_TOP, SURFACE)
    c.rect(list_w, CONTENT_TOP, 1, HEIGHT - CONTENT_TOP, DIVIDER)
    for i, mail in enumerate(MAILS):
        y = CONTENT_TOP + i * 96
        if i == a.mail:
            c.rrect(8, y + 4, list_w - 16, 88, 14, PRIMARY_LIGHT)
        unread = i not in a.mail_read
        if unread:
            c.circle(24, y + 28, 5, PRIMARY)
        c.text(40, y + 28, mail.sender, 18, TEXT_COLOR, "lm", bold=unread or i == a.mail)
        c.text(list_w - 24, y + 28, mail.time, 14, TEXT_MUTED, "rm")
        c.text(40, y + 53, fit(mail.subject, 16, list_w - 70), 16, TEXT_COLOR, "lm")
        snippet = " ".join(mail.body).replace("\n", " ")
        c.text(40, y + 76, fit(snippet, 15, list_w - 70), 15, TEXT_MUTED, "lm")
        hot.append(
            Hotspot(
                f"mail.message.{i}",
                Rect(0, y, list_w, 96),
                tap=ignore_point(partial(a.select_mail, i)),
            )
        )
    mail = MAILS[a.mail]
    px, pw = list_w + 28, WIDTH - list_w - 56
    c.rrect(px, 116, pw, 580, 20, SURFACE)
    y = 160
    for line in wrap(mail.subject, 26, pw - 64):
        c.text(px + 32, y, line, 26, TEXT_COLOR, "lm", bold=True)
        y += 34
    y += 16
    c.circle(px + 54, y + 8, 22, PRIMARY_LIGHT)
    c.text(px + 54, y + 8, mail.sender[:1], 20, PRIMARY, "mm", bold=True)
    c.text(px + 88, y - 3, mail.sender, 18, TEXT_COLOR, "lm", bold=True)
    c.text(px + 88, y + 20, mail.address, 15, TEXT_MUTED, "lm")
    c.text(px + pw - 32, y - 3, mail.time, 15, TEXT_MUTED, "rm")
    y += 54
    c.rect(px + 32, y, pw - 64, 1, DIVIDER)
    y += 28
    for paragraph in mail.body:
        for line in wrap(paragraph, 19, pw - 64):
            c.text(px + 32, y, line, 19, (52, 55, 62), "lm")
            y += 29
        y += 12
