# Copyright (c) mmieee contributors.
"""Benchmark the Re-ID evaluation of the test metric against the per-query
reference, with k-reciprocal re-ranking and several torch thread counts.

    python tools/analysis_tools/benchmark_eval.py [--cases Q,G,D ...]
        [--threads T ...] [--rerank] [--skip-loop] [--loop-queries N]
        [--chunk-size C] [--device cpu|cuda] [--out results.json]

Every measurement runs in a fresh subprocess, so its peak resident memory
(:class:`mmieee.utils.peak_memory.PeakMemory`, over the process' lifetime)
is its own. All get the same synthetic, identity-clustered float32 features
(about 21 images per id, 6 cameras; queries drawn from the gallery ids) and
include the distance computation in their time:

* ``chunked``: ``RankingProtocol.rank(query, gallery, evaluate=True)``
  (squared Euclidean, camera exclusion) -- what ``ReIDMetric`` computes
  after the test -- on the chosen device;
* ``rerank`` (``--rerank``): the same with k-reciprocal re-ranking
  (``test_evaluator.rerank=True``);
* ``loop``: ``mmieee.evaluation.functional.evaluate_rank_reference`` -- per
  query a stable ``argsort``, the same-id-same-camera filter and CMC/AP/INP,
  the torchreid ``eval_market1501`` loop -- on NumPy distances computed 256
  queries at a time. Where the loop would take too long it runs on the
  first ``--loop-queries`` queries and its time is extrapolated linearly to
  all queries (said in the output).

Each of them runs with every ``--threads`` value (``torch.set_num_threads``
in the subprocess). Rows are printed as they are measured, with the load
average before each, and ``--out`` is rewritten after each row, so a run cut
short keeps what it measured.

Example::

    python tools/analysis_tools/benchmark_eval.py \\
        --cases 3368,15913,2304 20000,200000,2304
"""
import argparse
import json
import os
import subprocess
import sys
import time

DEFAULT_CASES = ('3368,15913,2304', '20000,200000,2304')
#: Columns of the printed table and their widths (rows are printed as they
#: come, so the widths are fixed).
COLUMNS = (('kind', 7), ('thr', 3), ('Q x G x D', 18), ('seconds', 9),
           ('peak MB', 8), ('before MB', 9), ('mAP', 6), ('R1', 6),
           ('mINP', 6), ('load avg', 14))


def make_data(num_q: int, num_g: int, dim: int, seed: int = 0):
    """Identity-clustered features and labels (float32 torch tensors)."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    num_ids = max(1, num_g // 21)
    centers = torch.randn(num_ids, dim, generator=gen)
    g_pids = torch.randint(0, num_ids, (num_g, ), generator=gen)
    q_pids = torch.randint(0, num_ids, (num_q, ), generator=gen)
    g_cams = torch.randint(0, 6, (num_g, ), generator=gen)
    q_cams = torch.randint(0, 6, (num_q, ), generator=gen)

    def feats(pids):
        out = torch.empty(pids.numel(), dim)
        for s in range(0, pids.numel(), 8192):
            e = min(s + 8192, pids.numel())
            out[s:e] = torch.randn(e - s, dim, generator=gen).mul_(3.0)
            out[s:e] += centers[pids[s:e]]
        return out

    return feats(q_pids), feats(g_pids), q_pids, g_pids, q_cams, g_cams


def loop_eval(qf, gf, q_pids, g_pids, q_cams, g_cams, num_queries,
              block: int = 256):
    """The package's per-query reference protocol over the first
    ``num_queries`` queries, distances computed for ``block`` queries at a
    time (BLAS matrix products, as a plain NumPy user would)."""
    from mmieee.evaluation.functional import evaluate_rank_reference
    g_sq = (gf * gf).sum(axis=1)
    sums = dict(mAP=0.0, R1=0.0, mINP=0.0)
    valid = 0
    for s in range(0, num_queries, block):
        q = qf[s:min(s + block, num_queries)]
        dist = g_sq[None] - 2 * (q @ gf.T) + (q * q).sum(axis=1)[:, None]
        res = evaluate_rank_reference(dist, q_pids[s:s + len(q)], g_pids,
                                      q_cams[s:s + len(q)], g_cams, 1)
        n = res['num_valid_queries']
        sums['mAP'] += res['mAP'] * n
        sums['R1'] += res['cmc'][0] * n
        sums['mINP'] += res['mINP'] * n
        valid += n
    out = {k: float(v / valid) for k, v in sums.items()}
    out['num_valid_queries'] = valid
    return out


def worker(args) -> dict:
    """One measurement (``args.worker`` on ``args.case``), in this
    process."""
    import torch

    import mmieee  # noqa: F401
    from mmieee.evaluation import FeatureSet, RankingProtocol
    from mmieee.utils.peak_memory import PeakMemory, current_rss_bytes
    num_q, num_g, dim = args.case
    torch.set_num_threads(args.threads[0])
    data = make_data(num_q, num_g, dim)
    rss_before = current_rss_bytes() / 2**20
    cuda = args.device.startswith('cuda')
    if args.worker in ('chunked', 'rerank'):
        qf, gf, q_pids, g_pids, q_cams, g_cams = (t.numpy() for t in data)
        protocol = RankingProtocol(device=args.device,
                                   chunk_size=args.chunk_size,
                                   rerank=args.worker == 'rerank')
        query = FeatureSet(qf, pids=q_pids, camids=q_cams)
        gallery = FeatureSet(gf, pids=g_pids, camids=g_cams)
        gpu = PeakMemory(args.device) if cuda else None
        t0 = time.perf_counter()
        res = protocol.rank(query, gallery, evaluate=True)
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        out = dict(mAP=res['mAP'], R1=float(res['cmc'][0]),
                   mINP=res['mINP'],
                   num_valid_queries=res['num_valid_queries'],
                   queries_run=num_q)
        if gpu is not None:
            out['gpu_peak_mb'] = gpu.peak_bytes() / 2**20
    else:
        qf, gf, q_pids, g_pids, q_cams, g_cams = (t.numpy() for t in data)
        n = num_q if args.loop_queries <= 0 else min(num_q,
                                                     args.loop_queries)
        t0 = time.perf_counter()
        out = loop_eval(qf, gf, q_pids, g_pids, q_cams, g_cams, n)
        seconds = (time.perf_counter() - t0) * num_q / n
        out['queries_run'] = n
    out.update(seconds=seconds,
               peak_rss_mb=PeakMemory('cpu', reset=False).peak_bytes() /
               2**20,
               rss_before_eval_mb=rss_before)
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--cases',
        nargs='+',
        default=list(DEFAULT_CASES),
        help='num_query,num_gallery,dim triples')
    parser.add_argument(
        '--loop-queries',
        type=int,
        default=None,
        help='queries the NumPy loop runs before extrapolating (default: '
        'all when Q*G <= 1e8, else 100; <= 0: all)')
    parser.add_argument('--chunk-size', type=int, default=None)
    parser.add_argument(
        '--device', default='cpu', help="the metric's device")
    parser.add_argument(
        '--threads', type=int, nargs='+', default=[2],
        help='torch threads; each value runs every kind (default 2)')
    parser.add_argument(
        '--rerank', action='store_true',
        help='also time the metric with k-reciprocal re-ranking')
    parser.add_argument('--skip-loop', action='store_true')
    parser.add_argument(
        '--out', help='write the rows as JSON here (after each row)')
    parser.add_argument('--worker', choices=['chunked', 'rerank', 'loop'])
    parser.add_argument('--case', type=int, nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.threads) < 1:
        parser.error(f'--threads must be >= 1, got {args.threads}')
    try:
        args.cases = [tuple(int(v) for v in text.split(','))
                      for text in args.cases]
    except ValueError:
        args.cases = [()]
    if any(len(case) != 3 for case in args.cases):
        parser.error('--cases takes Q,G,D triples of integers')
    return args


def _run(kind: str, case: tuple, threads: int, args) -> dict:
    cmd = [
        sys.executable, __file__, '--worker', kind, '--case',
        *map(str, case), '--threads',
        str(threads), '--device', args.device
    ]
    if args.chunk_size:
        cmd += ['--chunk-size', str(args.chunk_size)]
    if kind == 'loop':
        n = args.loop_queries
        if n is None:
            n = 0 if case[0] * case[1] <= 1e8 else 100
        cmd += ['--loop-queries', str(n)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[7:])
    raise RuntimeError(f'{kind} worker for {case} failed:\n{proc.stderr}')


def main(argv=None) -> list:
    args = parse_args(argv)
    if args.worker:
        args.case = tuple(args.case)
        if args.loop_queries is None:
            args.loop_queries = 0
        print('RESULT ' + json.dumps(worker(args)), flush=True)
        return []
    from mmieee.utils.atomic_file import atomic_write
    from mmieee.utils.cpu_load import load_average
    from mmieee.utils.text_table import format_row
    kinds = ['chunked'] + ['rerank'] * args.rerank + \
        ['loop'] * (not args.skip_loop)
    res = dict(command=' '.join(sys.argv), cpus=os.cpu_count(),
               device=args.device, load_average_start=load_average(),
               rows=[], complete=False)

    def save():
        if args.out:
            atomic_write(json.dumps(res, indent=2).encode(), args.out)

    save()
    print(f'device={args.device} cpus={os.cpu_count()} load average '
          f'{res["load_average_start"]}; peak = peak RSS of a fresh '
          'subprocess (features included); "before" = RSS once the features '
          'exist')
    names, widths = zip(*COLUMNS)
    align = 'lrlrrrrrrl'
    print(format_row(names, widths, align), flush=True)
    for case in args.cases:
        for threads in args.threads:
            for kind in kinds:
                load = load_average()
                r = _run(kind, case, threads, args)
                r.update(kind=kind, threads=threads, case=list(case),
                         load_average=load)
                res['rows'].append(r)
                save()
                note = ''
                if r['queries_run'] < case[0]:
                    note = (f'  (ran {r["queries_run"]} queries, time '
                            f'extrapolated x{case[0] / r["queries_run"]:.0f}'
                            '; metrics over those queries)')
                if 'gpu_peak_mb' in r:
                    note += f'  gpu peak {r["gpu_peak_mb"]:.0f} MB'
                print(format_row(
                    [kind, threads, 'x'.join(map(str, case)),
                     f'{r["seconds"]:.2f}', f'{r["peak_rss_mb"]:.0f}',
                     f'{r["rss_before_eval_mb"]:.0f}',
                     f'{r["mAP"] * 100:.2f}', f'{r["R1"] * 100:.2f}',
                     f'{r["mINP"] * 100:.2f}', ' '.join(map(str, load))],
                    widths, align) + note, flush=True)
            by_kind = {r['kind']: r['seconds'] for r in res['rows']
                       if r['case'] == list(case) and r['threads'] == threads}
            if 'loop' in by_kind:
                print(f'speed-up of chunked over loop at {threads} threads: '
                      f'{by_kind["loop"] / by_kind["chunked"]:.1f}x',
                      flush=True)
    res.update(complete=True, load_average_end=load_average())
    save()
    return res['rows']


if __name__ == '__main__':
    main()
