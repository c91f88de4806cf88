"""The one exception type users see: a clear message and an exit code, no traceback."""


class SheetsyncError(Exception):
    """An error caused by the user's input or environment, reported as one line."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
