"""Exceptions whose message tells the user what to do next.

Every error a student or instructor can trigger by a bad setting or a missing file is one of these; the command
line prints the message alone (no traceback) and exits with status 2.
"""
from __future__ import annotations


class LectureError(Exception):
    """Base class: the message is complete, one line, and names the fix."""


class ConfigError(LectureError, ValueError):
    """A training option is out of range, of the wrong type, or names something that does not exist."""


class DataError(LectureError):
    """A data set in ``data/`` is missing, corrupt, or was made by a different configuration of the code."""


class TrainingDiverged(LectureError):
    """An update produced a loss or gradient that is not a finite number: the settings make training blow up."""
