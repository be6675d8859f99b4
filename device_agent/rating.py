"""The customer's rating of a finished session as the device keeps it: the stars, the answer to
"Was your problem solved?" and whether a comment went out.

The customer answers in steps (stars first, then maybe Yes / No, then maybe a comment), and each
step is sent at once as its own ``session.rate``. The server keeps the last call's stars and
comment but a ``solved`` answer only when one is given, and the agent's wrap-up shows the last
``session.rated`` it got; so every call repeats everything the customer said so far, and a later
call never takes back an earlier answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from signaling import models as m

__all__ = ["COMMENT_MAX", "RatingCard"]

COMMENT_MAX = 1000
"""``session.rate``'s limit on the comment (longer text is cut, never refused)."""


@dataclass
class RatingCard:
    """The rating card after one session: shown or not, and what the customer answered on it."""

    requested: bool = False
    """The card shows, until the customer closes it or asks for help again."""
    stars: int | None = None
    solved: bool | None = None
    """Yes / No to "Was your problem solved?"; ``None``: not answered (it is optional)."""
    comment: str = ""
    comment_sent: bool = False

    def reset(self, *, requested: bool = False) -> None:
        """A new card (after a session) or none (a new request for help): nothing answered."""
        self.requested = requested
        self.stars = None
        self.solved = None
        self.comment = ""
        self.comment_sent = False

    def give_stars(self, stars: int) -> bool:
        """The customer's 1–5 stars; ``False`` (nothing to send) if out of range."""
        if not 1 <= stars <= 5:
            return False
        self.stars = stars
        return True

    def answer_solved(self, solved: bool) -> bool:
        """Yes / No; only after the stars (``session.rate`` needs them), and may be changed."""
        if self.stars is None:
            return False
        self.solved = solved
        return True

    def write_comment(self, comment: str) -> bool:
        """The comment, trimmed and cut to :data:`COMMENT_MAX`; only after the stars, not empty."""
        comment = comment.strip()[:COMMENT_MAX]
        if self.stars is None or not comment:
            return False
        self.comment = comment
        self.comment_sent = True
        return True

    def message(self, session_id: str) -> m.SessionRate:
        """The ``session.rate`` carrying every answer given so far (call after the stars)."""
        assert self.stars is not None, "rate with stars first"
        return m.SessionRate(
            session_id=session_id, rating=self.stars, comment=self.comment, solved=self.solved
        )
