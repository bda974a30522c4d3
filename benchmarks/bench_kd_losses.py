"""Forward + backward time of the KD losses against plain KD, and peak memory of the O(NC) weighted MSE.

Times: each loss on the same float32 logits (batch ``--batch``, ``--classes`` classes), median of
``--repeats`` runs after one warm-up, in this process; the ratio is loss / KDLoss (> 1: slower than KD).
Memory: ``pairwise_wmse`` (O(N C)) against ``pairwise_wmse_dense`` (O(N C^2)), forward + backward, each in a
fresh subprocess; reported as the growth of the process's peak resident set (``ru_maxrss``) over the
resident set just before the call (the peak is reset through ``/proc/self/clear_refs``, Linux), so it
counts what the allocator took from the OS during forward + backward.

    python benchmarks/bench_kd_losses.py [--batch 256] [--classes 100 1000] [--repeats 5]
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

from visiondiv.models.losses import (BalancedKDLoss, DecoupledKLLoss, DKDLoss, GeneralizedKLLoss, KDLoss,
                                     WassersteinKDLoss, pairwise_wmse, pairwise_wmse_dense)


def make_inputs(n, c, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=g) * 3, torch.randn(n, c, generator=g) * 3, torch.randint(0, c, (n,),
                                                                                                  generator=g)


def losses(c, seed=0):
    w = torch.randn(c, 64, generator=torch.Generator().manual_seed(seed))
    return {
        'KD': KDLoss(tau=4.0),
        'DKD': DKDLoss(tau=4.0, beta=8.0),
        'DKL (sample w)': DecoupledKLLoss(tau=4.0, alpha=16.0),
        'GKL (class w)': GeneralizedKLLoss(tau=4.0, alpha=16.0, gamma=0.05, num_classes=c),
        'WKD-L (Sinkhorn 10 it)': WassersteinKDLoss(tau=2.0, classifier_weight=w, wd_weight=30.0),
        'BD-KD': BalancedKDLoss(tau=4.0),
    }


def time_one(loss, s, t, y, repeats):
    times = []
    for i in range(repeats + 1):
        zs = s.clone().requires_grad_(True)
        start = time.perf_counter()
        loss(zs, t, gt_labels=y).backward()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def memory_child(kind, n, c):
    s, t, _ = make_inputs(n, c)
    w = torch.rand(n, c)
    s.requires_grad_(True)
    with open('/proc/self/clear_refs', 'w') as f:      # reset VmHWM, the peak resident set
        f.write('5')
    before = _status_kib('VmRSS')
    fn = pairwise_wmse if kind == 'fast' else pairwise_wmse_dense
    start = time.perf_counter()
    fn(s, t, w).sum().backward()
    elapsed = time.perf_counter() - start
    print(json.dumps({'peak_extra_mib': (_status_kib('VmHWM') - before) / 1024, 'seconds': elapsed}))


def _status_kib(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory(kind, n, c):
    out = subprocess.run([sys.executable, __file__, '--child', kind, str(n), str(c)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--batch', type=int, default=256)
    parser.add_argument('--classes', type=int, nargs='+', default=[100, 1000])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--memory', type=str, nargs='+', default=['256x100', '64x1000'],
                        help='NxC sizes of the weighted-MSE memory comparison')
    parser.add_argument('--child', nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        memory_child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, float32, forward + backward, '
          f'median of {args.repeats}')
    for c in args.classes:
        s, t, y = make_inputs(args.batch, c)
        times = {name: time_one(loss, s, t, y, args.repeats) for name, loss in losses(c).items()}
        print(f'\nbatch {args.batch}, {c} classes')
        for name, sec in times.items():
            print(f'  {name:24s} {sec * 1e3:9.2f} ms   x{sec / times["KD"]:6.2f} KD')
    print('\nweighted MSE on pairwise gaps, forward + backward (fresh subprocess each; peak RSS growth)')
    for size in args.memory:
        n, c = (int(v) for v in size.split('x'))
        fast, dense = memory('fast', n, c), memory('dense', n, c)
        print(f'  N={n} C={c}: O(NC) {fast["peak_extra_mib"]:8.1f} MiB {fast["seconds"] * 1e3:8.1f} ms | '
              f'O(NC^2) {dense["peak_extra_mib"]:8.1f} MiB {dense["seconds"] * 1e3:8.1f} ms | '
              f'memory x{dense["peak_extra_mib"] / max(fast["peak_extra_mib"], 1e-3):.0f}; dense (N, C, C) fp32 '
              f'tensor = {n * c * c * 4 / 2 ** 20:.0f} MiB')


if __name__ == '__main__':
    main()
