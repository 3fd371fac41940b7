"""CSV cells that are safe to open in a spreadsheet: the one rule, for every CSV download.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula, so a name or a prompt could run one on the reader's machine
(CSV injection). ``neutralise`` puts an apostrophe before such text, which spreadsheets show
as plain text. Numbers written as numbers are not text and need no such care.
"""

from __future__ import annotations

# Spreadsheets run cells that start with these as formulas.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """Make a CSV cell safe to open in a spreadsheet: never a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
