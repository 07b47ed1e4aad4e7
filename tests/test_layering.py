# Copyright (c) mmieee contributors.
"""The package's layers (docs/architecture.md, "Packages"): every import
between mmieee's subpackages, deferred ones inside functions included,
points downwards; the one exception is ``register_all_modules``."""
import ast
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

PACKAGE = Path(__file__).resolve().parents[1] / 'mmieee'

#: Subpackage (or top-level module) -> layer. A module may import its own
#: subpackage and any subpackage of a LOWER layer, nothing else.
LAYERS: Dict[str, int] = {
    'registry': 0,
    'version': 0,
    'utils': 1,
    'datasets': 2,
    'models': 2,
    'evaluation': 2,
    'testing': 3,
    'visualization': 3,
    'engine': 4,
    'apis': 5,
}

#: (module, imported subpackage) pairs allowed against the layers, with why.
EXCEPTIONS = {
    # imports every package so that their modules land in the registries
    # (mmpretrain / mmdet keep the same function in their utils)
    ('mmieee.utils.setup_env', 'datasets'),
    ('mmieee.utils.setup_env', 'engine'),
    ('mmieee.utils.setup_env', 'evaluation'),
    ('mmieee.utils.setup_env', 'models'),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imported_modules(source: str, module: str,
                     is_package: bool) -> Iterator[Tuple[str, int]]:
    """Absolute names of the modules ``source`` imports, with line numbers,
    wherever the import statement is (module level or in a function)."""
    package = module if is_package else module.rpartition('.')[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - (node.level - 1)]
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ''
            if node.module is None and node.level:  # from . import x
                for alias in node.names:
                    yield f'{name}.{alias.name}', node.lineno
            else:
                yield name, node.lineno


def violations(source: str, module: str,
               is_package: bool = False) -> List[str]:
    """Upward or sideways imports of one module (``file:line`` texts)."""
    own = module.split('.')[1] if module.count('.') else None
    found = []
    for name, line in imported_modules(source, module, is_package):
        parts = name.split('.')
        if parts[0] != 'mmieee' or len(parts) < 2 or own is None:
            continue
        target = parts[1]
        if target == own or (module, target) in EXCEPTIONS:
            continue
        if target not in LAYERS or own not in LAYERS:
            found.append(f'{module}:{line} imports {name}: add its package '
                         'to LAYERS (and to docs/architecture.md)')
        elif LAYERS[target] >= LAYERS[own]:
            found.append(f'{module}:{line} imports {name} ({own} is layer '
                         f'{LAYERS[own]}, {target} layer {LAYERS[target]})')
    return found


def test_the_check_itself_catches_upward_and_deferred_imports():
    """An upward import (also one deferred into a function), a sideways one
    and a relative one are all reported; a downward one is not."""
    upward = 'def f():\n    from mmieee.apis import init_model\n'
    assert violations(upward, 'mmieee.utils.x') == [
        'mmieee.utils.x:2 imports mmieee.apis (utils is layer 1, apis layer '
        '5)'
    ]
    sideways = 'from mmieee.datasets import RGBNT201\n'
    assert len(violations(sideways, 'mmieee.models.necks.x')) == 1
    relative = 'from ..engine import ReIDRunner\n'
    assert len(violations(relative, 'mmieee.visualization.x')) == 1
    downward = 'import mmieee.utils\nfrom ..evaluation import FeatureSet\n'
    assert violations(downward, 'mmieee.apis.x') == []


def test_every_import_of_the_package_points_downwards():
    found = []
    for path in sorted(PACKAGE.rglob('*.py')):
        found += violations(path.read_text(encoding='utf-8'),
                            _module_name(path), path.name == '__init__.py')
    assert found == [], '\n'.join(found)
