# Copyright (c) mmieee contributors.
"""The one check of integer constructor arguments (sizes, counts, epochs).

``bool`` is refused although it is an ``int`` subclass: ``num_heads=True``
is a config mistake, not one head.
"""


def check_int(owner: str, name: str, value: object,
              minimum: int = 1) -> int:
    """Return ``value`` if it is an integer ``>= minimum``.

    Args:
        owner (str): Who takes the argument, for the message
            (e.g. ``'ATMoE'``).
        name (str): The argument's name.
        value (object): What was given.
        minimum (int): The smallest accepted value. Defaults to 1.

    Returns:
        int: ``value``.

    Raises:
        ValueError: ``'<owner>: <name> must be an integer >= <minimum>, got
            <value!r>'``.
    """
    if isinstance(value, bool) or not isinstance(value, int) \
            or value < minimum:
        raise ValueError(f'{owner}: {name} must be an integer >= {minimum}, '
                         f'got {value!r}')
    return value
