"""What ticket operations raise when they refuse.

Two kinds of refusal, because people are answered differently:
- ``TicketError``: the input cannot be used (an empty reply, an unknown status, a file over
  the cap). The form shows the message beside ``field`` and keeps what was typed.
- ``NotAllowed``: the actor may not do this to this ticket (``helpdesk.access.may``), whatever
  they typed. The app answers 403; ``TicketNotFound``, its narrower case for a ticket outside
  the actor's scope, answers 404, because a ticket one may not see does not exist for them.
  The CLI, jobs and the API get the same exceptions, so none of them can go around the rules.
"""


class TicketError(ValueError):
    """A ticket operation was refused; the message says why, ``field`` names the input."""

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.field = field


class NotAllowed(PermissionError):
    """The actor may not do this to the ticket; the message says what, in people's words."""


class TicketNotFound(NotAllowed):
    """The ticket is outside the actor's scope: to them it does not exist (404, never 403)."""

    def __init__(self, message="There is no such ticket."):
        super().__init__(message)
