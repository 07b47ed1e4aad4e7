# Copyright (c) mmieee contributors.
"""Read config text that came inside a file without running it.

mmengine's Runner stores the resolved config in every checkpoint as Python
text (``meta['cfg']``, ``Config.pretty_text``), and
``Config.fromstring(text, '.py')`` *executes* that text: a checkpoint
whose stored config says ``import os; os.system(...)`` runs it. Only a
config file the user passes as a config is code mmieee runs;
:func:`parse_config_text` reads stored config text instead with Python's
parser and accepts only what mmengine writes there:

* one ``NAME = value`` assignment per statement, where a value is
* a constant (number, string, bytes, True / False / None), a negated
  number, a list, tuple or set of values, a ``{key: value}`` dict with
  constant keys, or a ``dict(key=value, ...)`` call.

Anything else (imports, other calls, names, attribute access, operators,
comprehensions, lambdas) is refused with
:class:`~.errors.UnsafeCheckpointError` naming the file and the line; the
values are built by this module, never by ``eval``.

Why hand-written: :func:`ast.literal_eval` has no ``dict(...)`` call,
which is how mmengine writes every dict of a config.
"""
import ast
from typing import Any

from mmengine.config import Config

from .errors import UnsafeCheckpointError

#: Unary operators a value may carry (``-1``, ``+0.5``).
_SIGNS = {ast.USub: lambda v: -v, ast.UAdd: lambda v: +v}


class _Refused(Exception):
    """A node that is not literal config syntax."""

    def __init__(self, node: ast.AST, what: str) -> None:
        super().__init__(what)
        self.node = node
        self.what = what


def _article(word: str) -> str:
    return f'{"an" if word[0] in "AEIOU" else "a"} {word}'


def _value(node: ast.AST) -> Any:
    """The value of a literal node (module docstring), else ``_Refused``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _SIGNS and \
            isinstance(node.operand, ast.Constant) and \
            isinstance(node.operand.value, (int, float, complex)) and \
            not isinstance(node.operand.value, bool):
        return _SIGNS[type(node.op)](node.operand.value)
    if isinstance(node, ast.List):
        return [_value(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(e) for e in node.elts)
    if isinstance(node, ast.Set):
        return {_value(e) for e in node.elts}
    if isinstance(node, ast.Dict):
        out = {}
        for key, val in zip(node.keys, node.values):
            if not isinstance(key, ast.Constant):
                raise _Refused(key if key is not None else val,
                               'a dict key that is not a constant')
            out[key.value] = _value(val)
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == 'dict':
        if node.args or any(kw.arg is None for kw in node.keywords):
            raise _Refused(node, 'dict(...) with positional or ** arguments')
        return {kw.arg: _value(kw.value) for kw in node.keywords}
    what = {ast.Call: 'a function call', ast.Name: 'a variable name',
            ast.Attribute: 'an attribute access', ast.Lambda: 'a lambda',
            ast.BinOp: 'an operator', ast.Subscript: 'a subscript'}.get(
                type(node), f'{_article(type(node).__name__)} expression')
    raise _Refused(node, what)


def parse_config_text(text: str, source: str, hint: str = '') -> Config:
    """Build a :class:`Config` from stored config text without running it.

    Args:
        text (str): The config text (e.g. a checkpoint's ``meta['cfg']``).
        source (str): Where the text comes from, for messages (e.g.
            ``"the config stored in epoch_8.pth (meta['cfg'])"``).
        hint (str): What the user can do instead, appended to a refusal
            (e.g. ``'Give the config with --config.'``).

    Returns:
        Config: The config the text assigns.

    Raises:
        UnsafeCheckpointError: The text is not literal config syntax (the
            message names ``source``, the line and what was found there).
    """
    def refuse(line: int, what: str, snippet: str = '') -> None:
        found = f': {snippet[:80]}' if snippet else ''
        raise UnsafeCheckpointError(
            f'Refusing to read {source}: line {line} holds {what}{found}. '
            'Stored config text is parsed, never run, and may only assign '
            'constants, lists, tuples and dict(...) calls (as mmengine '
            f'writes it). {hint}'.rstrip())

    if not isinstance(text, str):
        refuse(1, f'a {type(text).__name__} instead of config text')
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as err:
        refuse(getattr(err, 'lineno', None) or 1,
               f'text that is not Python ({getattr(err, "msg", err)})')
    cfg = {}
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            refuse(stmt.lineno, f'{_article(type(stmt).__name__)} '
                   'statement instead of NAME = value',
                   ast.get_source_segment(text, stmt) or '')
        try:
            cfg[stmt.targets[0].id] = _value(stmt.value)
        except _Refused as err:
            refuse(getattr(err.node, 'lineno', stmt.lineno), err.what,
                   ast.get_source_segment(text, err.node) or '')
        except RecursionError:
            refuse(stmt.lineno, 'values nested too deeply')
    return Config(cfg)
