# Copyright (c) mmieee contributors.
"""Every reference in code, configs and docs resolves inside the repository
(or is a public URL): no design notes, issue numbers or files that do not
ship, and no markdown link to a missing file."""
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r'DESIGN|issue [0-9]|team spec|\.\./shared|shared/ref')


def tracked(*patterns):
    out = subprocess.run(['git', 'ls-files', *patterns], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [REPO / p for p in out.split()]


@pytest.fixture(scope='module')
def files():
    try:
        return tracked('mmieee', 'tools', 'configs', 'tests', 'docs',
                       'README.md')
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('not a git checkout')


def test_no_reference_to_documents_that_do_not_ship(files):
    this = Path(__file__).resolve()
    hits = [f'{p.relative_to(REPO)}:{n}: {line.strip()}'
            for p in files if p.suffix in ('.py', '.md', '.sh', '.yml')
            and p != this
            for n, line in enumerate(p.read_text().splitlines(), 1)
            if OUTSIDE.search(line)]
    assert not hits, '\n'.join(hits)


def test_relative_markdown_links_resolve(files):
    broken = []
    for page in [p for p in files if p.suffix == '.md']:
        for target in re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)',
                                 page.read_text()):
            if '://' in target or target.startswith('mailto:'):
                continue
            if not (page.parent / target).exists():
                broken.append(f'{page.relative_to(REPO)} -> {target}')
    assert not broken, '\n'.join(broken)


def test_bare_docs_paths_resolve(files):
    """``docs/<page>.md`` named in code, configs or docs (not as a markdown
    link) must exist too."""
    bare = re.compile(r'(?<![\w/.-])(docs/[\w./-]*\w\.md)')
    broken = [f'{p.relative_to(REPO)}:{n}: {target}'
              for p in files if p.suffix in ('.py', '.md', '.sh', '.yml')
              for n, line in enumerate(p.read_text().splitlines(), 1)
              for target in bare.findall(line)
              if not (REPO / target).exists()]
    assert not broken, '\n'.join(broken)
