"""Named domain errors. They know nothing of HTTP; ``api/`` maps them to statuses in one table."""

from __future__ import annotations


class RuralError(Exception):
    """Base class of every error the domain raises on purpose."""


class ValidationError(RuralError):
    """Input that breaks a domain rule. Names the field and the value received."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class InvalidCodeError(ValidationError):
    """A division code that is not a valid 12-digit statistical code."""


class ImportRowError(ValidationError):
    """A bad row of an imported file; names the file, the row (as the user sees it), the field
    and the value."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        row: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message, field=field, value=value)
        self.file = file
        self.row = row


class GisFileError(ValidationError):
    """A GIS file that cannot be used as it is (unreadable, unsupported, wrong geometry)."""


class CrsError(GisFileError):
    """A CRS that is missing, misspelled or unknown."""


class CoordinateError(GisFileError):
    """Coordinates outside China, or with x and y swapped."""


class NotFoundError(RuralError):
    """The object asked for does not exist."""


class PermissionDeniedError(RuralError):
    """The caller may not do this to that unit."""


class AuthenticationError(RuralError):
    """The caller is not signed in, or the credentials are wrong, expired or revoked."""


class RateLimitedError(RuralError):
    """Too many attempts (failed logins, public requests) in the current window."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VersionRequiredError(RuralError):
    """An update that does not say which version of the object it changes."""


class ConflictError(RuralError):
    """The write conflicts with the current state (stale version, duplicate, bad transition)."""


class StaleVersionError(ConflictError):
    """The object changed since the caller read it (optimistic concurrency)."""

    def __init__(self, message: str, *, current_version: int | None) -> None:
        super().__init__(message)
        self.current_version = current_version


class InvalidTransitionError(ConflictError):
    """A status change that the lifecycle does not allow."""


class DemoDataError(RuralError):
    """The demo generator refuses a database that holds real (non-demo) data."""


class RulesError(RuralError):
    """A rules data file that does not validate. The message names the file and the entry."""


class SettingsError(RuralError):
    """A setting from the environment that cannot be used. The message names the variable and
    the reason, never the value (it may be the secret key)."""
