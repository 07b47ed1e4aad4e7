# Copyright (c) mmieee contributors.
"""Sandboxes in which the docs' commands run as a user runs them.

A :class:`Sandbox` is a folder that looks like a clone of the repository to
the commands of README.md and docs/*.md, which run in it from a shell (bash),
after ``source .venv/bin/activate``:

* ``configs/`` and ``tools/`` mirror the repository file by file (symbolic
  links), so that a page's own config or package can be added beside them;
  ``demo/``, ``mmieee/``, ``tests/``, ``setup.cfg`` and ``setup.py`` are
  links;
* ``.venv`` is a real virtual environment (``python -m venv``, so
  ``source .venv/bin/activate`` and ``.venv/bin/python`` are what
  tools/install.sh leaves) whose packages are the test interpreter's and
  whose ``pip`` records what it is asked to install (``pip_requests()``)
  instead of downloading anything;
* ``HOME`` is inside it (gallery cache, ``~/.cache/clip``, torch hub): files
  a user would have to download are missing, as on a fresh machine;
* the one change of size: ``tools/dataset_converters/generate_synthetic.py``
  writes a small set by default (its options, when given, still win), so
  that the demos train in seconds; every other command runs as written
  unless its test says what it appends.
"""
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The generator's size for a sandbox whose commands need the README's
#: query 000045_cam1_0_01.jpg (test ids 41..50; 2 images per camera).
DEMO_SET = ('--num-train-ids', '40', '--num-test-ids', '10', '--num-cameras',
            '2', '--images-per-id-per-camera', '2')
#: A smaller one for the ViT demos (8 ids of 4 triplets: one batch an epoch).
SMALL_SET = ('--num-train-ids', '8', '--num-test-ids', '3', '--num-cameras',
             '2', '--images-per-id-per-camera', '2')

_GENERATOR = '''\
# Copyright (c) mmieee contributors.
"""Docs test sandbox: the repository's generate_synthetic.py with a smaller
default size (options given on the command line come later and win)."""
import runpy
import sys

sys.argv[1:1] = {sizes!r}
runpy.run_path({script!r}, run_name='__main__')
'''

_PIP = '''\
"""Docs test sandbox: pip records its arguments instead of installing."""
import json
import sys
from pathlib import Path

log = Path(sys.prefix).parent / 'pip_requests.jsonl'
with open(log, 'a') as f:
    f.write(json.dumps(sys.argv[1:]) + '\\n')
print('pip (docs test sandbox): recorded', ' '.join(sys.argv[1:]))
'''


class Sandbox:
    """A folder that looks like a clone of the repository (module doc).

    Args:
        root (Path): Created if needed.
        data_sizes (Sequence[str]): Options the sandbox's synthetic
            generator puts before the command line's.
        mpl_dir (Path, optional): Matplotlib's cache folder, shared between
            sandboxes (its font cache takes seconds to build).
        create (bool): False: use the sandbox already at ``root``.
    """

    def __init__(self, root: Path, data_sizes: Sequence[str] = DEMO_SET,
                 mpl_dir: Optional[Path] = None, create: bool = True) -> None:
        self.root = Path(root)
        self.home = self.root / 'home'
        self.mpl_dir = mpl_dir or self.home / '.config' / 'matplotlib'
        if not create:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        for name in ('configs', 'tools'):
            self._mirror(REPO / name, self.root / name)
        for name in ('demo', 'mmieee', 'tests', 'setup.cfg', 'setup.py',
                     'requirements', 'requirements.txt'):
            link = self.root / name
            if not link.exists():
                link.symlink_to(REPO / name)
        generator = self.root / 'tools' / 'dataset_converters' / \
            'generate_synthetic.py'
        generator.unlink()
        generator.write_text(_GENERATOR.format(
            sizes=list(data_sizes),
            script=str(REPO / 'tools' / 'dataset_converters' /
                       'generate_synthetic.py')))
        self._make_venv()

    @staticmethod
    def _mirror(source: Path, target: Path) -> None:
        for path in sorted(source.rglob('*')):
            if '__pycache__' in path.parts or path.is_dir():
                continue
            link = target / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(path)

    def _make_venv(self) -> None:
        venv = self.root / '.venv'
        subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                        str(venv)], check=True)
        site = Path(subprocess.run(
            [str(venv / 'bin' / 'python'), '-c',
             'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
            check=True, capture_output=True, text=True).stdout.strip())
        ours = sysconfig.get_paths()['purelib']
        (site / 'docs_test_packages.pth').write_text(
            f'import site; site.addsitedir({ours!r})\n')
        (site / 'pip').mkdir()
        (site / 'pip' / '__init__.py').write_text('')
        (site / 'pip' / '__main__.py').write_text(_PIP)
        pip = venv / 'bin' / 'pip'
        pip.write_text(
            '#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n')
        pip.chmod(0o755)

    def env(self) -> Dict[str, str]:
        """The environment of a user's shell in the sandbox."""
        env = {k: v for k, v in os.environ.items()
               if k not in ('VIRTUAL_ENV', 'PYTHON', 'PYTHONHOME')}
        env['PYTHONPATH'] = str(REPO)
        env.update(HOME=str(self.home), MPLCONFIGDIR=str(self.mpl_dir),
                   OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        return env

    def run(self, command, append: str = '', expect: Optional[int] = 0,
            timeout: float = 600,
            env: Optional[Dict[str, str]] = None
            ) -> subprocess.CompletedProcess:
        """Run a docs command in the sandbox, as a user would type it.

        Args:
            command (Command | str): A command of a page (its block's
                variable assignments run first) or a shell line.
            append (str): Appended to the command's last line (options that
                shrink it; the test says why).
            expect (int, optional): The exit status it must end with
                (``None``: any).
            timeout (float): Seconds.
            env (dict, optional): Extra environment variables.

        Returns:
            subprocess.CompletedProcess: With ``stdout`` and ``stderr``.
        """
        setup = list(getattr(command, 'setup', ()))
        source = getattr(command, 'source', command)
        script = '\n'.join(['set -e', 'source .venv/bin/activate'] + setup +
                           [source + (' ' + append if append else '')])
        proc = subprocess.run(['bash', '-c', script], cwd=self.root,
                              env={**self.env(), **(env or {})},
                              capture_output=True, text=True,
                              timeout=timeout)
        if expect is not None:
            assert proc.returncode == expect, (
                f'{script}\nexited with {proc.returncode} in {self.root}\n'
                f'--- stdout ---\n{proc.stdout[-4000:]}\n'
                f'--- stderr ---\n{proc.stderr[-4000:]}')
        return proc

    def write(self, relative: str, text: str) -> Path:
        """Write a file of the user's (a page's config, package, ...)."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.write_text(text)
        return path

    def pip_requests(self) -> List[List[str]]:
        """The argument lists ``pip`` was called with, in order."""
        log = self.root / 'pip_requests.jsonl'
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture(scope='session')
def mpl_dir(shared_dir) -> Path:
    path = shared_dir / 'docs_matplotlib'
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def sandbox(tmp_path, mpl_dir):
    """``sandbox(data_sizes=SMALL_SET)`` -> a fresh :class:`Sandbox`."""
    made = []

    def make(data_sizes: Sequence[str] = SMALL_SET) -> Sandbox:
        made.append(Sandbox(tmp_path / f'clone{len(made)}', data_sizes,
                            mpl_dir))
        return made[-1]

    return make


@pytest.fixture(scope='session')
def clone(tmp_path_factory, mpl_dir) -> Sandbox:
    """One sandbox for the test session (per xdist worker), for commands
    that stop before writing anything."""
    return Sandbox(tmp_path_factory.mktemp('clone'), SMALL_SET, mpl_dir)
