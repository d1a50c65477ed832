"""Checks on the plain text clients name things with."""

from app.domain.errors import InvalidInput

MAX_NAME = 200


def check_text(value: str, loc: tuple[str | int, ...]) -> None:
    # PostgreSQL cannot store U+0000 in text; refuse it on every database alike.
    if "\x00" in value:
        raise InvalidInput.at(loc, f"{loc[0]} may not contain the NUL character")


def check_name(name: str, field: str = "name", max_length: int = MAX_NAME) -> None:
    check_text(name, (field,))
    if not name.strip() or len(name) > max_length:
        raise InvalidInput.at(
            (field,), f"{field} must be 1 to {max_length} characters, not all blank"
        )
