"""Nothing happens for a while: the session stays open and the video keeps flowing.

The smallest step there is, and so the template for a new one: a model with ``kind``, its fields,
and ``execute``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from .base import Json, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = ["Wait"]


# The shape of every step, which input.py's PressKey repeats line for line: a declaration of the
# step's own fields, not logic to share.
class Wait(Step):
    kind = "wait"
    primary = "seconds"
    summary = "Do nothing for a while (the session stays open)."
    seconds: Annotated[float, Field(ge=0, le=3600, description="how long")]

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        await asyncio.sleep(self.seconds)
