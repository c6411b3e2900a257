"""What ticket operations raise when they refuse.

Two kinds of refusal, because people are answered differently:
- ``TicketError``: the input cannot be used (an empty reply, an unknown status, a file over
  the cap). The form shows the message beside ``field`` and keeps what was typed.
- ``NotAllowed``: the actor may not do this to this ticket (``helpdesk.access.may``), whatever
  they typed. The app answers 403; ``TicketNotFound``, its narrower case for a ticket outside
  the actor's scope, answers 404, because a ticket one may not see does not exist for them.
  The CLI, jobs and the API get the same exceptions, so none of them can go around the rules.
"""


_USUAL = object()


class Refused(ValueError):
    """Input a service cannot use: the message says why, in the user's words, and ``field``
    names the form field it belongs beside (the class's ``FIELD`` unless given; None: the
    form as a whole). Each service names its own kind (``TicketError``, ``AccountError``,
    ``CategoryError``...), so a caller catches what it can answer."""

    FIELD = None

    def __init__(self, message, *, field=_USUAL):
        super().__init__(message)
        self.field = self.FIELD if field is _USUAL else field


class TicketError(Refused):
    """A ticket operation was refused."""


class NotAllowed(PermissionError):
    """The actor may not do this to the ticket; the message says what, in people's words."""


class TicketNotFound(NotAllowed):
    """The ticket is outside the actor's scope: to them it does not exist (404, never 403)."""

    def __init__(self, message="There is no such ticket."):
        super().__init__(message)
