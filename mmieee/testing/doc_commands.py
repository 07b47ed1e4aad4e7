# Copyright (c) mmieee contributors.
"""The code blocks of a Markdown page and the shell commands in them.

The docs test (tests/test_docs) runs every command of README.md,
docs/*.md and configs/*/README.md; this module finds them:

* :func:`code_blocks`: the fenced blocks (```bash, ```python, ```text, ...),
  de-indented when the fence is indented (a block inside a list item);
* :func:`block_commands`: the commands of a ``bash`` / ``shell`` / ``sh``
  block: continuation lines joined, trailing comments split off, variable
  assignments (``CKPT=...``) and ``for`` ... ``done`` loops kept whole;
* :func:`inline_commands`: commands written inline in the prose
  (```python tools/train.py CONFIG --resume```), recognised by the program
  they start with.

A command that cannot run where the tests run says what it needs in a
comment, ``# needs: data/RGBNT201, GPU`` (on the command's last line, or a
comment line right above it); :attr:`Command.needs` lists them.
Placeholders in upper case (``CONFIG``), in angle brackets (``<timestamp>``),
optional parts in square brackets and ``...`` make a command a *synopsis*
(:attr:`Command.is_synopsis`): it documents the options of a tool rather
than one call; so does an inline reference to a tool or one of its options
(```tools/test.py --dump```, ```python tools/test.py```).
"""
import re
import shlex
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

#: Languages of the blocks whose lines are shell commands.
SHELL_LANGUAGES = ('bash', 'shell', 'sh', 'console')
#: Programs an inline command starts with (after ``VAR=value`` words).
PROGRAMS = ('python', 'python3', 'bash', 'sh', 'pip', 'source', 'torchrun',
            '.venv/bin/python', 'tensorboard', 'sha256sum')

_FENCE = re.compile(
    r'^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)'
    r'^(?P=indent)```[ \t]*$', re.S | re.M)
_ASSIGNMENT = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*=')
_PLACEHOLDER = re.compile(r'^(?:[A-Z][A-Z0-9_]*[A-Z0-9](?:\.[a-z]+)?|[A-Z])$|'
                          r'<[^>]+>|\.\.\.')
_TOOL_PATH = re.compile(r'^(?:tools|demo)/[\w/.-]+\.(?:py|sh)$')


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block of a page.

    Attributes:
        page (str): The page, as given to :func:`code_blocks`.
        line (int): 1-based line of the opening fence.
        lang (str): The language after the fence ('' when none).
        text (str): The block's content, de-indented to the fence.
    """
    page: str
    line: int
    lang: str
    text: str


@dataclass(frozen=True)
class Command:
    """One shell command of a page.

    Attributes:
        page (str): The page.
        line (int): 1-based line where the command starts.
        source (str): The command as written (continuation lines kept),
            without its trailing comment; what a shell runs.
        comment (str): The comment lines right above it, then its trailing
            comment, joined by `` # `` (``#`` removed from each).
        inline (bool): Written inline in the prose, not in a code block.
        block (CodeBlock, optional): The block it is in.
        setup (tuple[str, ...]): The variable assignments above it in its
            page (``CKPT=...``), in order: run them first.
    """
    page: str
    line: int
    source: str
    comment: str = ''
    inline: bool = False
    block: Optional[CodeBlock] = None
    setup: Tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        """The command on one line, runs of white space collapsed."""
        return ' '.join(self.source.replace('\\\n', ' ').split())

    @property
    def needs(self) -> Tuple[str, ...]:
        """What ``# needs: A, B`` in its comment names, in order."""
        match = re.search(r'needs:\s*([^#]*)', self.comment)
        if not match:
            return ()
        return tuple(n.strip() for n in match.group(1).split(',')
                     if n.strip())

    @property
    def words(self) -> List[str]:
        """The command split as a shell would (quotes removed)."""
        return shlex.split(self.text, comments=False)

    @property
    def is_assignment(self) -> bool:
        """Only variable assignments (``T=...; Q=...``)."""
        return all(_ASSIGNMENT.match(w) for w in self.words)

    @property
    def is_synopsis(self) -> bool:
        """Placeholders or optional parts: a tool's usage, not one call.

        An inline reference to a tool's option (```tools/test.py --dump```:
        the script, then an option) is one too.
        """
        words = shlex.split(self.text, posix=False)
        if self.inline and (_TOOL_PATH.match(words[0])
                            and words[1].startswith('--')
                            or len(words) == 2 and words[0] == 'python'
                            and _TOOL_PATH.match(words[1])):
            return True
        for word in words:
            if word.startswith('[') or (_PLACEHOLDER.search(word)
                                        and not _ASSIGNMENT.match(word)):
                return True
        return False

    @property
    def where(self) -> str:
        """``page:line`` for messages."""
        return f'{self.page}:{self.line}'


def code_blocks(path: Path, root: Optional[Path] = None) -> List[CodeBlock]:
    """The fenced code blocks of a Markdown file, in order.

    Args:
        path (Path): The page.
        root (Path, optional): Pages are named relative to it.

    Returns:
        list[CodeBlock]: One per block.
    """
    text = Path(path).read_text()
    page = str(Path(path).relative_to(root)) if root else str(path)
    blocks = []
    for match in _FENCE.finditer(text):
        body = match.group('body')
        indent = match.group('indent')
        if indent:
            body = textwrap.dedent(body)
        blocks.append(
            CodeBlock(page, text.count('\n', 0, match.start()) + 1,
                      match.group('lang'), body))
    return blocks


def _split_comment(line: str) -> Tuple[str, str]:
    """``(code, comment)`` of a shell line: the first ``#`` outside quotes
    that starts a word."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in '\'"':
            quote = char
        elif char == '#' and (i == 0 or line[i - 1] in ' \t'):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ''


def _split_statements(code: str) -> List[str]:
    """Split on ``;`` outside quotes (``T=a; Q=b`` -> two statements)."""
    parts, quote, start = [], None, 0
    for i, char in enumerate(code):
        if quote:
            if char == quote:
                quote = None
        elif char in '\'"':
            quote = char
        elif char == ';':
            parts.append(code[start:i].strip())
            start = i + 1
    parts.append(code[start:].strip())
    return [p for p in parts if p]


def block_commands(block: CodeBlock,
                   setup: Tuple[str, ...] = ()) -> List[Command]:
    """The commands of a shell block.

    Args:
        block (CodeBlock): A block whose ``lang`` is in
            :data:`SHELL_LANGUAGES`.
        setup (tuple[str, ...]): Assignments of the page's earlier blocks
            (a reader's shell still has them).

    Returns:
        list[Command]: Every command and assignment, in order; a
        ``for`` / ``while`` loop is one command up to its ``done``.
    """
    lines = block.text.splitlines()
    commands: List[Command] = []
    setup = list(setup)
    above: List[str] = []
    i = 0
    while i < len(lines):
        start = i
        code, comment = _split_comment(lines[i])
        if not code.strip():
            above = above + [comment] if comment else []
            i += 1
            continue
        physical = [code]
        depth = 1 if re.match(r'\s*(for|while)\b', code) else 0
        while i + 1 < len(lines) and (physical[-1].endswith('\\')
                                      or depth > 0):
            i += 1
            code, comment = _split_comment(lines[i])
            physical.append(code)
            if re.match(r'\s*(for|while)\b', code):
                depth += 1
            if re.search(r'(^|;)\s*done\b', code.strip()):
                depth -= 1
        i += 1
        source = '\n'.join(physical)
        statements = [source] if depth or '\n' in source or \
            source.lstrip().startswith(('for ', 'while ')) else \
            _split_statements(source)
        for statement in statements:
            command = Command(block.page, block.line + 1 + start, statement,
                              ' # '.join(c for c in above + [comment] if c),
                              block=block, setup=tuple(setup))
            if command.is_assignment:
                setup.append(statement)
            commands.append(command)
        above = []
    return commands


def _is_command(span: str) -> bool:
    try:
        words = shlex.split(span)
    except ValueError:
        return False
    while words and _ASSIGNMENT.match(words[0]):
        words = words[1:]
    if len(words) < 2:
        return False
    return words[0] in PROGRAMS or bool(_TOOL_PATH.match(words[0]))


def inline_commands(path: Path, root: Optional[Path] = None) -> List[Command]:
    """The commands written inline (in backticks) in a page's prose.

    Args:
        path (Path): The page.
        root (Path, optional): Pages are named relative to it.

    Returns:
        list[Command]: Spans that start with one of :data:`PROGRAMS` or a
        ``tools/`` / ``demo/`` script, with at least one argument.
    """
    text = Path(path).read_text()
    page = str(Path(path).relative_to(root)) if root else str(path)
    prose = _FENCE.sub(lambda m: '\n' * m.group(0).count('\n'), text)
    commands = []
    for match in re.finditer(r'(?<!`)`([^`]+)`(?!`)', prose):
        span = ' '.join(match.group(1).split())
        if '\n\n' not in match.group(1) and _is_command(span):
            commands.append(
                Command(page, prose.count('\n', 0, match.start()) + 1, span,
                        inline=True))
    return commands


def page_commands(path: Path, root: Optional[Path] = None) -> List[Command]:
    """Every command of a page: its shell blocks' and its inline ones.

    Args:
        path (Path): The page.
        root (Path, optional): Pages are named relative to it.

    Returns:
        list[Command]: Block commands first (each with the assignments of
        the blocks above it), then inline ones.
    """
    commands: List[Command] = []
    for block in code_blocks(path, root):
        if block.lang in SHELL_LANGUAGES:
            setup = commands[-1].setup if commands else ()
            if commands and commands[-1].is_assignment:
                setup = setup + (commands[-1].source, )
            commands += block_commands(block, setup)
    return commands + inline_commands(path, root)
