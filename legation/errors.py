"""Legation's exceptions, one tree, no HTTP inside (the API maps them in ``api/errors.py``).

::

    LegationError
     ├── ConfigError          settings that cannot work
     ├── InputError           something a user sent is malformed (names the input)
     │    └── TooLargeError   over a configured size limit
     ├── NotFoundError        an object asked for does not exist
     ├── ConflictError        the request contradicts stored state
     ├── AuthError            missing or wrong credentials
     │    └── ForbiddenError  credentials valid, role insufficient
     └── SourceError          a remote source failed (feed, page, channel)
          └── DeliveryError   an alert channel refused or failed
"""

from __future__ import annotations


class LegationError(Exception):
    """Base of every error Legation raises on purpose."""


class ConfigError(LegationError):
    """The configuration cannot work."""


class InputError(LegationError):
    """Malformed input; the message names the input and what is wrong."""


class TooLargeError(InputError):
    """Input over a configured size limit."""


class NotFoundError(LegationError):
    """An object that was asked for does not exist."""


class ConflictError(LegationError):
    """The request contradicts stored state."""


class AuthError(LegationError):
    """Missing or invalid credentials."""


class ForbiddenError(AuthError):
    """Valid credentials whose role does not allow the action."""


class SourceError(LegationError):
    """A remote source (feed, page) failed."""


class DeliveryError(SourceError):
    """An alert channel refused or failed to deliver."""
