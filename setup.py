# Copyright (c) mmieee contributors.
"""Install mmieee: ``pip install -e .``; extras ``[tests]`` (test and lint
tools), ``[vis]`` (visualisation tools), ``[deploy]`` (ONNX export).

Install torch for your machine *before* this (see README, "Installation"):
``install_requires`` carries an open ``torch`` range that an installed torch
satisfies, so no CUDA wheel is pulled in on a CPU machine.
"""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version() -> str:
    with open(osp.join(HERE, 'mmieee', 'version.py'), encoding='utf-8') as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def parse_requirements(fname: str) -> list:
    """Requirement lines of ``fname``: comments, blanks and pip options dropped."""
    reqs = []
    with open(osp.join(HERE, fname), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


setup(
    name='mmieee',
    version=read_version(),
    description='OpenMMLab-style toolbox for multi-modal object '
    're-identification (IEEE, AAAI 2022)',
    long_description=open(osp.join(HERE, 'README.md'), encoding='utf-8').read()
    if osp.exists(osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.10',  # torch 2.13 needs 3.10
    install_requires=parse_requirements('requirements.txt'),
    extras_require={
        name: parse_requirements(f'requirements/{name}.txt')
        for name in ('tests', 'vis', 'deploy')
    },
    zip_safe=False,
)
