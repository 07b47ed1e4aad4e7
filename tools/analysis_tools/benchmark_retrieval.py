# Copyright (c) mmieee contributors.
"""Memory and time of the inferencer's gallery search (exact and faiss).

Each case runs in a fresh subprocess so that its peak resident memory
(:class:`mmieee.utils.peak_memory.PeakMemory`, over the process' lifetime)
is its own. A case allocates G x D float32 gallery features
(identity-clustered, 6 cameras) and Q queries, records the peak so far
(features included), runs ``set_gallery`` and one ``search(topk)`` of
``mmieee.apis.gallery_search`` with the protocol's exclusion, and prints the
growth of the peak (what ``set_gallery`` + ``search`` add to the features)
next to the prediction of the
formula in mmieee/apis/gallery_search.py:

    exact: max(min(G, 2**24 // D) * D * 4,       (a)
               min(Q, 512) * G * 4 + c * G * 16)  (b)
           + G * 4                                (gallery norms)
    faiss: G * D * 4  (the index's own copy of the features)

(a) is the transient of PairwiseDistance's gallery norms, squared 2**24
elements at a time and freed before any distance row exists; (b) is one
block of up to 512 distance rows plus the ranking temporaries of a chunk of
c = max(1, min(Q, 2**24 // G)) queries: a masked float32 copy of the rows,
boolean masks and torch.topk's work space, 12.5 to 16 bytes per (query,
gallery) pair as measured by this script (16 is used). A chunk that spans
two blocks also holds the next block and a concatenated copy (4 bytes per
pair); c divides 512 for G >= 2**15, so it never happens there.

Rows are printed as they are measured and ``--out`` (JSON) is rewritten
after each, so a run cut short keeps what it measured.

Example (what docs/inference.md quotes)::

    python tools/analysis_tools/benchmark_retrieval.py \\
        --cases 100000,1,2304 100000,600,2304 100000,600,64 \\
        --backends exact faiss
"""
import argparse
import json
import subprocess
import sys
import time

import numpy as np

MB = 1e6
#: Columns of the printed table and their widths (rows come one by one).
COLUMNS = (('backend', 7), ('G', 7), ('Q', 6), ('D', 5), ('feats MB', 8),
           ('search peak MB', 14), ('predicted MB', 12), ('time s', 7))


def predicted_mb(backend: str, g: int, q: int, d: int) -> float:
    """The formula of the module docstring, in MB."""
    if backend == 'faiss':
        return g * d * 4 / MB
    chunk = max(1, min(q, 2**24 // g))
    return (max(min(g, 2**24 // d) * d * 4,
                min(q, 512) * g * 4 + chunk * g * 16) + g * 4) / MB


def run_case(backend: str, g: int, q: int, d: int, topk: int) -> dict:
    import torch
    torch.set_num_threads(1)
    from mmieee.apis.gallery_search import build_search
    from mmieee.evaluation import FeatureSet, RankingProtocol
    from mmieee.utils.peak_memory import PeakMemory
    peak = PeakMemory('cpu', reset=False)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, max(1, g // 21), g)
    centres = rng.standard_normal((ids.max() + 1, d), dtype=np.float32)
    feats = np.empty((g, d), dtype=np.float32)
    step = 4096  # filled in slices: no feature-sized temporary
    for s in range(0, g, step):
        feats[s:s + step] = centres[ids[s:s + step]] + 0.5 * \
            rng.standard_normal((len(ids[s:s + step]), d), dtype=np.float32)
    cams = rng.integers(0, 6, g)
    q_rows = rng.choice(g, q, replace=False)
    q_feats = feats[q_rows].copy()
    search = build_search(RankingProtocol(device='cpu'), backend)
    gallery = FeatureSet(feats, pids=ids, camids=cams)
    queries = FeatureSet(q_feats, pids=ids[q_rows], camids=cams[q_rows])
    base = peak.peak_bytes() / MB
    start = time.perf_counter()
    search.set_gallery(gallery)
    out = search.search(queries, topk)
    seconds = time.perf_counter() - start
    assert out['indices'].shape == (q, topk)
    return dict(backend=backend, gallery=g, queries=q, dim=d,
                features_mb=feats.nbytes / MB,
                search_peak_mb=peak.peak_bytes() / MB - base,
                predicted_mb=predicted_mb(backend, g, q, d),
                seconds=seconds)


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cases', nargs='+',
                        default=['100000,1,2304', '100000,600,2304',
                                 '100000,600,64'],
                        help='G,Q,D triples')
    parser.add_argument('--backends', nargs='+', default=['exact'],
                        choices=['exact', 'faiss'])
    parser.add_argument('--topk', type=int, default=10)
    parser.add_argument(
        '--out', help='write the rows as JSON here (after each row)')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        backend, g, q, d = args.child.split(',')
        print(json.dumps(run_case(backend, int(g), int(q), int(d),
                                  args.topk)))
        return []
    from mmieee.utils.atomic_file import atomic_write
    from mmieee.utils.text_table import format_row
    names, widths = zip(*COLUMNS)
    print(format_row(names, widths, 'r' * len(names)), flush=True)
    rows = []
    for case in args.cases:
        for backend in args.backends:
            proc = subprocess.run(
                [sys.executable, __file__, '--child', f'{backend},{case}',
                 '--topk', str(args.topk)],
                capture_output=True, text=True, check=True)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(r)
            if args.out:
                atomic_write(json.dumps(rows, indent=2).encode(), args.out)
            print(format_row(
                [r['backend'], r['gallery'], r['queries'], r['dim'],
                 f'{r["features_mb"]:.0f}', f'{r["search_peak_mb"]:.0f}',
                 f'{r["predicted_mb"]:.0f}', f'{r["seconds"]:.2f}'], widths,
                'r' * len(names)), flush=True)
    return rows


if __name__ == '__main__':
    main()
