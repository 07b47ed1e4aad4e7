# Copyright (c) mmieee contributors.
"""Every place in the package, the tools and the demo that opens a
pickle-like or config file goes through mmieee's readers (so the next tool
cannot forget).

The readers (docs/checkpoints.md, "What is protected"):

* checkpoints: ``mmieee/utils/safe_checkpoint.py`` (mmengine's loader of
  every scheme is replaced by it; ``load_model_weights`` /
  ``load_from_local`` call it); TorchScript archives of weights (CLIP):
  ``mmieee/utils/torchscript_weights.py``;
* feature files and gallery caches: ``FeatureSet.load`` (``.npz`` with
  ``allow_pickle=False``, ``.pkl`` through
  ``mmieee/utils/safe_pickle.load_plain_pickle``);
* config text stored in a file: ``mmieee/utils/config_text.py``; config
  files only where the user passed them as a config;
* YAML with ``yaml.safe_load``, JSON with ``json``.

The test parses every source file (imports inside functions included),
resolves import aliases, and lists each call of a function that can run
code or build arbitrary objects from a file. Each must be in
:data:`ALLOWED` (file, enclosing function, call) with the reason it is
safe; a new one fails with its location.
"""
import ast
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ('mmieee', 'tools', 'demo')

#: Calls that read a pickle, a pickle-like or a config (code) file, by
#: their canonical dotted name (a name ending like one of these matches).
READERS = (
    'torch.load', 'torch.jit.load', 'torch.hub.load',
    'torch.hub.load_state_dict_from_url', 'torch.package.PackageImporter',
    'pickle.load', 'pickle.loads', 'pickle.Unpickler', '_pickle.load',
    '_pickle.loads', '_pickle.Unpickler', 'dill.load', 'dill.loads',
    'joblib.load', 'marshal.load', 'marshal.loads', 'shelve.open',
    'pandas.read_pickle', 'numpy.load', 'mmengine.load',
    'mmengine.fileio.load', 'mmengine.fileio.io.load', 'Config.fromfile',
    'Config.fromstring', 'yaml.load', 'yaml.load_all', 'yaml.unsafe_load',
    'yaml.full_load', 'yaml.unsafe_load_all', 'yaml.full_load_all',
    'onnx.load', 'onnx.load_model', 'eval', 'exec', 'builtins.eval',
    'builtins.exec'
)

#: (file, enclosing function, reader) -> why it is safe.
ALLOWED: Dict[Tuple[str, str, str], str] = {
    ('mmieee/utils/safe_checkpoint.py', 'load_checkpoint_bytes',
     'torch.load'): 'the MMIEEE_TRUST_CHECKPOINTS=1 opt-in to the full '
    'pickle loader (documented; the only way to it)',
    ('mmieee/utils/safe_checkpoint.py', '_restricted_load', 'torch.load'):
    "the checkpoint reader itself: weights_only=True with mmieee's own "
    'allow-list, after the globals were checked without building anything',
    ('mmieee/utils/safe_pickle.py', '_PlainUnpickler', 'pickle.Unpickler'):
    'the plain-pickle reader itself: find_class admits numpy data arrays '
    'and nothing else',
    ('mmieee/utils/torchscript_weights.py', '_RestrictedUnpickler',
     'pickle.Unpickler'): 'the TorchScript-archive reader (CLIP weights): '
    'find_class admits tensor rebuilding with checked arguments, storage '
    'dtypes, OrderedDict, the list-type tags and inert placeholders for the '
    'module classes; no numpy, nothing else',
    ('mmieee/evaluation/feature_set.py', 'FeatureSet.load_with_meta',
     'numpy.load'): 'allow_pickle=False (checked below)',
    ('mmieee/utils/tool_setup.py', 'load_tool_config', 'Config.fromfile'):
    'the config file (or model name) the user passed as the config',
    ('mmieee/apis/inference.py', 'init_model', 'Config.fromfile'):
    'the config file (or model name) the caller passed as the config',
    ('mmieee/apis/onnx_export.py', 'export_onnx', 'onnx.load'):
    'the ONNX file this function has just written (protobuf: no code)',
    ('tools/analysis_tools/benchmark_train.py', '_case_main',
     'Config.fromfile'): 'the config file the user passed, handed to the '
    'benchmark\'s own child process',
}

#: Keyword arguments an allowed call must pass, and their values.
REQUIRED_KEYWORDS = {
    ('mmieee/evaluation/feature_set.py', 'FeatureSet.load_with_meta',
     'numpy.load'): {'allow_pickle': False},
    ('mmieee/utils/safe_checkpoint.py', '_restricted_load', 'torch.load'):
    {'weights_only': True},
}


class _Scanner(ast.NodeVisitor):
    """Collect (enclosing function, canonical call name, node) of every
    call and every class base of a module."""

    def __init__(self, tree: ast.Module) -> None:
        self.aliases: Dict[str, str] = {}
        for node in ast.walk(tree):  # imports anywhere, deferred ones too
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.aliases[a.asname or a.name.split('.')[0]] = \
                        a.name if a.asname else a.name.split('.')[0]
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    self.aliases[a.asname or a.name] = \
                        f'{node.module}.{a.name}'
        self.scope: List[str] = []
        self.found: List[Tuple[str, str, ast.AST]] = []

    def dotted(self, node: ast.AST) -> str:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ''
        parts.append(self.aliases.get(node.id, node.id))
        return '.'.join(reversed(parts))

    def _scoped(self, node) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _scoped

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(node.name)
        for base in node.bases:
            self.found.append(('.'.join(self.scope), self.dotted(base),
                               base))
        self.generic_visit(node)
        self.scope.pop()

    def visit_Call(self, node: ast.Call) -> None:
        self.found.append(('.'.join(self.scope) or '<module>',
                           self.dotted(node.func), node))
        self.generic_visit(node)


def _reader(name: str) -> str:
    """The READERS entry ``name`` is (or ends like), else ''. A bare name
    (``eval``) matches only itself (not ``model.eval``)."""
    for reader in READERS:
        if name == reader or ('.' in reader and name.endswith('.' + reader)):
            return reader
    return ''


def reader_calls(source: str) -> Iterator[Tuple[str, str, ast.AST]]:
    """``(enclosing function, reader, node)`` of each reader call."""
    scanner = _Scanner(ast.parse(source))
    scanner.visit(ast.parse(source))
    for scope, name, node in scanner.found:
        reader = _reader(name)
        if reader:
            yield scope, reader, node


def _sources():
    for top in SCANNED:
        yield from sorted((REPO / top).rglob('*.py'))


def test_the_scanner_finds_every_kind_of_reader():
    """The scan itself works: aliases, deferred imports, attribute chains,
    subclassing."""
    source = '''
import numpy as np
import pickle as pk
from mmengine.config import Config
import mmengine
def f(path):
    import torch
    from yaml import load as yload
    np.load(path)
    torch.load(path)
    torch.jit.load(path)
    pk.loads(b'')
    mmengine.load(path)
    Config.fromstring('', '.py')
    yload(path)
    eval('1')
    model.eval()
class U(pk.Unpickler):
    pass
'''
    found = sorted((s, r) for s, r, _ in reader_calls(source))
    assert found == sorted([
        ('f', 'numpy.load'), ('f', 'torch.load'), ('f', 'torch.jit.load'),
        ('f', 'pickle.loads'), ('f', 'mmengine.load'),
        ('f', 'Config.fromstring'), ('f', 'yaml.load'), ('f', 'eval'),
        ('U', 'pickle.Unpickler')
    ])


def test_every_file_reader_goes_through_mmieee_readers():
    unlisted = []
    for path in _sources():
        rel = path.relative_to(REPO).as_posix()
        for scope, reader, node in reader_calls(path.read_text()):
            key = (rel, scope, reader)
            if key not in ALLOWED:
                unlisted.append(f'{rel}:{node.lineno} ({scope}) {reader}')
                continue
            for kw, value in REQUIRED_KEYWORDS.get(key, {}).items():
                given = {k.arg: k.value for k in getattr(node, 'keywords',
                                                         ())}
                assert kw in given and isinstance(given[kw], ast.Constant) \
                    and given[kw].value == value, (
                        f'{rel}:{node.lineno}: {reader} must pass '
                        f'{kw}={value!r}')
    assert not unlisted, (
        'These calls read a pickle-like or config file without mmieee\'s '
        'readers (checkpoints: mmengine.runner.CheckpointLoader / '
        'mmieee.utils.load_from_local; features: FeatureSet.load; plain '
        'pickles: safe_pickle.load_plain_pickle; stored config text: '
        'parse_config_text; YAML: yaml.safe_load). Use one, or add the call '
        'to ALLOWED with the reason it is safe:\n  ' + '\n  '.join(unlisted))


@pytest.mark.parametrize('key', sorted(ALLOWED))
def test_allowed_entries_give_a_reason(key):
    assert len(ALLOWED[key]) > 20
