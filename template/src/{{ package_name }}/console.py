"""Text for a terminal: what the CLI prints from the database can't drive the terminal."""


def terminal_safe(text: str) -> str:
    r"""``text`` with every control or invisible character written as its escape (``\x1b``).

    Values in the database come from callers (names from tokens, descriptions, ids): printed
    raw, an escape sequence among them could erase lines, forge output or retitle the terminal.
    A backslash is escaped too, so an escape written out can't be mistaken for a real one.
    """
    return "".join(
        char if char.isprintable() and char != "\\" else char.encode("unicode_escape").decode()
        for char in text
    )
