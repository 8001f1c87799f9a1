"""The one syntax for values on the command line and in grids.

    0.5                 one value (int when written as an integer, else float; other text as a string)
    1,2,4  erf,relu     a list
    START:STOP:N        N evenly spaced values from START to STOP (both included)
    START:STOP:N:log    N geometrically spaced values (START, STOP > 0)
"""
from __future__ import annotations

import numpy as np

from hild.core import resources
from hild.core.resources import Need, array


def number(text: str):
    """One value from text.

    **Arguments:** `text`: e.g. '3', '0.5', '1e3', 'relu'.

    **Returns:** an int ('3'), a float ('0.5', '1e3') or, for anything else, the stripped string."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def count(text: str) -> int:
    """How many values `text` denotes, without building them.

    **Arguments:** `text`: a value, a list or a range (module docstring).

    **Returns:** the count, an int (0 when `text` is not well formed)."""
    text = str(text).strip()
    if ":" in text:
        try:
            return max(int(text.split(":")[2]), 0)
        except (IndexError, ValueError):
            return 0
    return len([v for v in text.split(",") if v.strip()])


def parse_values(name: str, text: str) -> tuple:
    """The values that `text` denotes (see the module docstring).

    **Arguments:** `name`: the parameter named in errors; `text`: a value, a list or a range.

    **Returns:** a tuple of values (numbers or strings); ValueError for malformed text or an empty range."""
    text = str(text).strip()
    if not text:
        raise ValueError(f"{name}: no value given")
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("lin", "log")):
            raise ValueError(f"{name}: a range is START:STOP:N or START:STOP:N:log; got {text!r}")
        try:
            start, stop, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(f"{name}: START and STOP must be numbers and N an integer; got {text!r}") from None
        if n < 1:
            raise ValueError(f"{name}: the range is empty (N = {n})")
        resources.admit(f"the range {text}", [Need(f"its {n} values", (f"{name}'s N",), array(n, itemsize=48))])
        if len(parts) == 4 and parts[3] == "log":
            if start <= 0 or stop <= 0:
                raise ValueError(f"{name}: a log range needs START, STOP > 0; got {text!r}")
            return tuple(np.geomspace(start, stop, n).tolist())
        return tuple(np.linspace(start, stop, n).tolist())
    items = [v for v in text.split(",") if v.strip()]
    if not items:
        raise ValueError(f"{name}: no value given in {text!r}")
    return tuple(number(v) for v in items)
