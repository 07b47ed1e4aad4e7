# Copyright (c) mmieee contributors.
"""Search a gallery with your own multi-modal queries.

    python demo/retrieval_demo.py GALLERY QUERY [QUERY ...] \\
        --config CONFIG --checkpoint CKPT [--topk 10] [--out DIR] \\
        [--backend exact|faiss] [--cache-dir DIR | --no-cache] \\
        [--device cpu] [--default-camid N] [--cfg-options KEY=VALUE ...]

GALLERY: a folder ``<folder>/<modality>/<name>`` (e.g.
``data/RGBNT201/test``), a dataset root of the config's test dataset type
(e.g. ``data/RGBNT201``: its gallery samples), or a feature file
(``tools/test.py --dump`` pickle or a cached ``.npz``). Its features are
cached (``~/.cache/mmieee/galleries``), keyed by the checkpoint's content and
the gallery files, so the next run does not extract them again.

QUERY: a folder (as GALLERY), or one sample as M comma-separated image
paths in the model's modality order, optionally named:
``RGB=a.jpg,NI=b.jpg,TI=c.jpg``. CONFIG may be a model name of
configs/*/metafile.yml.

A model with a camera embedding (TOP-ReID) gets each sample's camera from
its file name when the name follows a dataset's rule, else camera
``--default-camid`` (0; docs/inference.md).

Prints each query's top-k (distance, id, camera, whether it is the query's
id when both ids are known from the file names) and, with ``--out``, writes
``results.json`` and one rank-list picture per query.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import tempfile

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)

from mmieee.apis import MultiModalReIDInferencer
from mmieee.apis.feature_cache import DEFAULT_CACHE_DIR
from mmieee.apis.gallery_search import SEARCH_BACKENDS
from mmieee.apis.sample_inputs import parse_samples
from mmieee.utils import (CONFIG_HELP, ConfigError, add_common_arguments,
                          check_output_dir, exit_on_user_error,
                          parse_tool_args, writing)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Retrieve gallery samples for multi-modal queries.')
    parser.add_argument('gallery', help='gallery folder or feature file')
    parser.add_argument(
        'queries', nargs='+', metavar='QUERY',
        help='a folder, or M comma-separated image paths '
        '(optionally MODALITY=path)')
    parser.add_argument('--config', required=True, help=CONFIG_HELP)
    parser.add_argument('--checkpoint', required=True, help='checkpoint')
    parser.add_argument('--topk', type=int, default=10,
                        help='gallery items per query (default 10)')
    parser.add_argument('--out', help='write results.json (and pictures)')
    parser.add_argument('--backend', choices=SEARCH_BACKENDS,
                        default='exact', help='search backend')
    parser.add_argument('--cache-dir', default=DEFAULT_CACHE_DIR,
                        help=f'gallery feature cache ({DEFAULT_CACHE_DIR})')
    parser.add_argument('--no-cache', action='store_true',
                        help='do not read or write the feature cache')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, ...')
    parser.add_argument(
        '--default-camid', type=int, default=0,
        help='camera of samples whose file names give none, for a model '
        'with a camera embedding (default 0)')
    add_common_arguments(
        parser, cfg_options_example='"model.test_cfg.blank_modalities=[NI]"')
    return parse_tool_args(parser, argv)


def parse_query(text: str):
    """A folder, or one sample: ``a,b,c`` or ``RGB=a,NI=b,TI=c``."""
    if osp.isdir(text):
        return text
    parts = [p for p in text.split(',') if p]
    named = [p.split('=', 1) for p in parts if '=' in p]
    if named and len(named) != len(parts):
        raise ConfigError(f'query {text!r}: name all images (RGB=a.jpg,...) '
                          'or none')
    if named:
        keys = [k for k, _ in named]
        if len(set(keys)) != len(keys):
            raise ConfigError(f'query {text!r} names a modality twice')
        return dict(named)
    return parts


def print_results(results: list) -> None:
    for res in results:
        q = res['query']
        ids = '' if q['pid'] is None else f' (id {q["pid"]}, camera ' \
            f'{q["camid"]})'
        print(f'query {q["index"]}: {q["name"]}{ids}; '
              f'{res["num_excluded"]} gallery items excluded by the protocol')
        for m in res['matches']:
            same = {True: 'same id', False: 'other id', None: ''}[
                m['same_id']]
            where = m['img_paths'][0] if m['img_paths'] else ''
            print(f'  {m["rank"]:>3}  d={m["distance"]:.4f}  id '
                  f'{m["pid"]}  cam {m["camid"]}  {same:8s} {where}')


def main(argv=None) -> list:
    args = parse_args(argv)
    with exit_on_user_error():
        if args.topk < 1:
            raise ConfigError(f'--topk must be >= 1, got {args.topk}')
        queries = [parse_query(text) for text in args.queries]
        check_output_dir(args.out, '--out')
        try:
            inferencer = MultiModalReIDInferencer(
                args.config, args.checkpoint, device=args.device,
                backend=args.backend,
                cache_dir=None if args.no_cache else args.cache_dir,
                cfg_options=args.cfg_options,
                default_camid=args.default_camid)
            # Check every query before the gallery's (long) extraction.
            for query in queries:
                if not isinstance(query, str):
                    parse_samples(query, inferencer.modalities)
            inferencer.set_gallery(args.gallery)
            results = []
            for query in queries:
                # Pictures go to a scratch folder first: the inferencer
                # numbers them per call, the demo across all queries.
                scratch = tempfile.mkdtemp(dir=args.out) if args.out \
                    else None
                for res in inferencer(query, topk=args.topk,
                                      out_dir=scratch):
                    res['query']['index'] = len(results)
                    if 'vis_path' in res:
                        path = osp.join(args.out, f'{len(results):04d}_'
                                        f'{res["query"]["name"]}.png')
                        os.replace(res['vis_path'], path)
                        res['vis_path'] = path
                    results.append(res)
                if scratch:
                    shutil.rmtree(scratch)
        except (FileNotFoundError, ValueError, ImportError) as err:
            raise ConfigError(str(err)) from err
        print_results(results)
        if args.out:
            path = osp.join(args.out, 'results.json')
            with writing(path), open(path, 'w', encoding='utf-8') as f:
                json.dump(results, f, indent=1)
            drawn = sum('vis_path' in r for r in results)
            print(f'wrote {path} and {drawn} rank-list pictures')
    return results


if __name__ == '__main__':
    main()
