# Copyright (c) mmieee contributors.
"""Benchmark the chunked Re-ID evaluator against the per-query reference
(targets: >= 10x faster than the reference at Market-1501 size on 2 CPU
cores, 20k x 200k under 8 GB peak).

Every measurement runs in a fresh subprocess, so its peak resident memory
(``ru_maxrss``) is its own. Both sides get the same synthetic, identity-
clustered float32 features (about 21 images per id, 6 cameras; queries drawn
from the gallery ids) and include the distance computation in their time:

* ``chunked``: ``mmieee.evaluation.functional.evaluate_features`` (squared
  Euclidean, camera exclusion), on the chosen device;
* ``loop``: ``mmieee.evaluation.functional.evaluate_rank_reference`` -- per
  query a stable ``argsort``, the same-id-same-camera filter and CMC/AP/INP,
  the torchreid ``eval_market1501`` loop -- on NumPy distances computed 256
  queries at a time. Where the loop would take too long
  it runs on the first ``--loop-queries`` queries and its time is
  extrapolated linearly to all queries (said in the output).

Example::

    python tools/analysis_tools/benchmark_eval.py \\
        --cases 3368,15913,2304 20000,200000,2304
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

DEFAULT_CASES = ('3368,15913,2304', '20000,200000,2304')


def _rss_mb() -> float:
    """Current resident memory in MB (Linux)."""
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def worker(args) -> None:
    import torch
    num_q, num_g, dim = args.case
    torch.set_num_threads(args.threads)
    data = make_data(num_q, num_g, dim)
    rss_before = _rss_mb()
    if args.worker == 'chunked':
        import mmieee  # noqa: F401
        from mmieee.evaluation.functional import evaluate_features
        qf, gf = data[0].to(args.device), data[1].to(args.device)
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        res = evaluate_features(
            qf, gf, *data[2:], max_rank=50, chunk_size=args.chunk_size)
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        out = dict(
            mAP=res['mAP'],
            R1=float(res['cmc'][0]),
            mINP=res['mINP'],
            num_valid_queries=res['num_valid_queries'],
            queries_run=num_q)
        if args.device.startswith('cuda'):
            out['gpu_peak_mb'] = torch.cuda.max_memory_allocated() / 2**20
    else:
        qf, gf, q_pids, g_pids, q_cams, g_cams = (t.numpy() for t in data)
        n = num_q if args.loop_queries <= 0 else min(num_q,
                                                     args.loop_queries)
        t0 = time.perf_counter()
        out = loop_eval(qf, gf, q_pids, g_pids, q_cams, g_cams, n)
        seconds = (time.perf_counter() - t0) * num_q / n
        out['queries_run'] = n
    out.update(
        seconds=seconds,
        peak_rss_mb=_peak_mb(),
        rss_before_eval_mb=rss_before)
    print('RESULT ' + json.dumps(out), flush=True)


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
        '--device', default='cpu', help="chunked evaluator's device")
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--skip-loop', action='store_true')
    parser.add_argument('--worker', choices=['chunked', 'loop'])
    parser.add_argument('--case', type=int, nargs=3, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _run(kind, case, args):
    cmd = [
        sys.executable, __file__, '--worker', kind, '--case',
        *map(str, case), '--threads',
        str(args.threads), '--device', args.device
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


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        args.case = tuple(args.case)
        if args.loop_queries is None:
            args.loop_queries = 0
        worker(args)
        return
    print(f'threads={args.threads} device={args.device} '
          f'cpus={os.cpu_count()}; peak = ru_maxrss of a fresh subprocess '
          '(includes the features); "before" = RSS once the features exist')
    for text in args.cases:
        case = tuple(int(v) for v in text.split(','))
        if len(case) != 3:
            raise SystemExit(f'--cases takes Q,G,D triples, got {text!r}')
        print(f'\n== Q={case[0]} G={case[1]} D={case[2]} ==', flush=True)
        rows = [('chunked', _run('chunked', case, args))]
        if not args.skip_loop:
            rows.append(('loop', _run('loop', case, args)))
        for name, r in rows:
            note = ''
            if r['queries_run'] < case[0]:
                note = (f'  (ran {r["queries_run"]} queries, time '
                        f'extrapolated x{case[0] / r["queries_run"]:.0f}; '
                        'metrics over those queries)')
            gpu = (f' gpu_peak={r["gpu_peak_mb"]:.0f}MB'
                   if 'gpu_peak_mb' in r else '')
            peak, before = r['peak_rss_mb'], r['rss_before_eval_mb']
            print(f'{name:8s} {r["seconds"]:9.2f} s  peak={peak:8.0f}MB '
                  f'before={before:8.0f}MB{gpu}  '
                  f'mAP={r["mAP"] * 100:.2f} R1={r["R1"] * 100:.2f} '
                  f'mINP={r["mINP"] * 100:.2f}{note}', flush=True)
        if len(rows) == 2:
            speed = rows[1][1]['seconds'] / rows[0][1]['seconds']
            print(f'speed-up: {speed:.1f}x', flush=True)


if __name__ == '__main__':
    main()
