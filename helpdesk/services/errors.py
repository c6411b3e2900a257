"""The error every ticket operation raises when it refuses: a message for people, a field."""


class TicketError(ValueError):
    """A ticket operation was refused; the message says why, ``field`` names the input."""

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.field = field
