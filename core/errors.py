"""Domain errors: raised by services, turned into a 400/409 API body or a form error in one place each."""


class DomainError(Exception):
    """A business rule refused an action. `code` is stable for API clients; `message` is for people."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = str(message)
        self.code = code or self.default_code
        self.fields = fields or {}


class TransitionError(DomainError):
    """A state change the rules forbid (a stage move, a status change)."""

    default_code = "invalid_transition"


class ConflictError(DomainError):
    """Someone else changed the record first (stale version), or the action was already done."""

    status_code = 409
    default_code = "conflict"


class PermissionDeniedError(DomainError):
    """The user may see the record but not do this to it."""

    status_code = 403
    default_code = "permission_denied"
