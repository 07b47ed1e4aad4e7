# Copyright (c) mmieee contributors.
"""The config of a neck's part, completed with the sizes the neck owns.

A neck that builds its parts from configs (IEEE's CIM and REM, DeMo's PIFE,
HDM and ATMoE) states each shared size once, as its own argument, and fills
it into the parts' configs; a part config that states another value is a
contradiction, not an override.
"""
import copy


def fill_part_config(cfg: dict, neck: str, part: str, **values) -> dict:
    """Copy ``cfg`` and fill ``values`` in, refusing contradicting ones.

    Args:
        cfg (dict): The part's config (e.g. the ``hdm`` argument).
        neck (str): The neck's class name, for the message.
        part (str): The argument that holds ``cfg``, for the message.
        **values: The sizes the neck owns, e.g. ``embed_dims=512``.

    Returns:
        dict: A copy of ``cfg`` holding ``values``.

    Raises:
        ValueError: ``cfg`` gives one of them another value
            (``'<neck>: <part>.<key>=<v> contradicts the neck (<key>=<w>)'``).
    """
    cfg = copy.deepcopy(dict(cfg))
    for key, value in values.items():
        if key in cfg and cfg[key] != value:
            raise ValueError(f'{neck}: {part}.{key}={cfg[key]!r} '
                             f'contradicts the neck ({key}={value!r})')
        cfg[key] = value
    return cfg
