"""Screen sources behind one interface."""

from .base import Frame, ScreenSource
from .pattern import PatternScreen

__all__ = ["Frame", "PatternScreen", "ScreenSource"]
