# Copyright (c) mmieee contributors.
"""The tables the tools print and write: aligned plain text or Markdown.

Every table of the analysis tools (benchmarks, studies, the
missing-modality evaluation) is formatted here, so that they look alike and
a change of style is made once. Written by hand: mmieee's dependencies offer
no aligned plain-text and Markdown table (``rich`` draws boxed tables for a
terminal, not text to paste into a page).
"""
from typing import Optional, Sequence

#: Cell separator of plain-text tables.
SEPARATOR = '  '


def _cells(row: Sequence[object]) -> list:
    return ['' if c is None else str(c) for c in row]


def format_row(row: Sequence[object],
               widths: Sequence[int],
               align: str = '',
               indent: int = 0) -> str:
    """One line of a plain-text table, for tables printed row by row.

    Args:
        row (Sequence): The cells (``str()`` of each; None is empty).
        widths (Sequence[int]): Column widths; a longer cell widens its
            column on this line only.
        align (str): ``'l'`` or ``'r'`` per column; columns beyond it are
            left-aligned.
        indent (int): Spaces before the line.

    Returns:
        str: The line, without trailing spaces.
    """
    cells = _cells(row)
    if len(cells) != len(widths):
        raise ValueError(f'a row of {len(cells)} cells for {len(widths)} '
                         f'columns: {cells}')
    padded = [
        c.rjust(w) if align[i:i + 1] == 'r' else c.ljust(w)
        for i, (c, w) in enumerate(zip(cells, widths))
    ]
    return (' ' * indent + SEPARATOR.join(padded)).rstrip()


def column_widths(header: Sequence[object],
                  rows: Sequence[Sequence[object]]) -> list:
    """The width of each column: its longest cell, header included."""
    return [max(len(c) for c in col)
            for col in zip(_cells(header), *map(_cells, rows))]


def format_table(header: Sequence[object],
                 rows: Sequence[Sequence[object]],
                 align: str = '',
                 style: str = 'plain',
                 rule: bool = False,
                 indent: int = 0,
                 widths: Optional[Sequence[int]] = None) -> str:
    """A table as text.

    Args:
        header (Sequence): Column titles.
        rows (Sequence[Sequence]): The rows, one cell per column.
        align (str): ``'l'`` or ``'r'`` per column (default left).
        style (str): ``'plain'``: columns padded to their widths and
            separated by two spaces; ``'markdown'``: a GitHub Markdown
            table (``---:`` for right-aligned columns, cells not padded).
        rule (bool): Plain style: a line of dashes under the header.
        indent (int): Plain style: spaces before every line.
        widths (Sequence[int], optional): Plain style: minimum column
            widths (e.g. those of rows printed earlier with
            :func:`format_row`).

    Returns:
        str: The lines joined by newlines (no final newline).

    Raises:
        ValueError: An unknown ``style`` or a row whose length differs from
            the header's.
    """
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f'a row of {len(row)} cells under a header of '
                             f'{len(header)} columns: {list(row)}')
    if style == 'markdown':
        marks = [' ---: ' if align[i:i + 1] == 'r' else ' --- '
                 for i in range(len(header))]
        lines = [_cells(header), None] + [_cells(r) for r in rows]
        return '\n'.join('|' + '|'.join(
            marks if cells is None else [f' {c} ' if c else ' '
                                         for c in cells]) + '|'
                         for cells in lines)
    if style != 'plain':
        raise ValueError(f"style must be 'plain' or 'markdown', got "
                         f'{style!r}')
    sizes = column_widths(header, rows)
    if widths is not None:
        sizes = [max(a, b) for a, b in zip(sizes, widths)]
    lines = [format_row(header, sizes, align, indent)]
    if rule:
        lines.append(' ' * indent + SEPARATOR.join('-' * w for w in sizes))
    lines += [format_row(r, sizes, align, indent) for r in rows]
    return '\n'.join(lines)
