# Copyright (c) mmieee contributors.
"""What the package declares about itself is true: the Python it needs, its
license, how to cite it."""
import re
from importlib.metadata import metadata
from pathlib import Path

import yaml
from mmengine.utils import digit_version

REPO = Path(__file__).resolve().parents[1]


def _setup_field(name: str) -> str:
    text = (REPO / 'setup.py').read_text()
    return re.search(rf"{name}='([^']+)'", text).group(1)


def test_python_requirement_matches_torch_and_the_readme():
    """setup.py's python_requires is what the pinned torch needs, and the
    README states the same version."""
    needed = re.search(r'>=\s*([\d.]+)',
                       metadata('torch')['Requires-Python']).group(1)
    declared = re.search(r'>=([\d.]+)',
                         _setup_field('python_requires')).group(1)
    assert digit_version(declared) >= digit_version(needed)
    assert f'Python {declared}+' in (REPO / 'README.md').read_text()


def test_license_file_matches_setup():
    assert _setup_field('license') == 'Apache License 2.0'
    text = (REPO / 'LICENSE').read_text()
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text


def test_citation_file_lists_every_hosted_method():
    cff = yaml.safe_load((REPO / 'CITATION.cff').read_text())
    assert cff['cff-version'] == '1.2.0' and cff['license'] == 'Apache-2.0'
    titles = ' '.join(r['title'] for r in cff['references'])
    for metafile in REPO.glob('configs/*/metafile.yml'):
        for coll in yaml.safe_load(metafile.read_text()).get(
                'Collections', []):
            paper = coll.get('Paper', {}).get('Title')
            if paper:
                assert paper in titles, f'{metafile}: cite {paper!r}'
