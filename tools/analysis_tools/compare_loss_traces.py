"""Where two training runs part: compare the loss traces that ``LossTraceHook`` writes, iteration by iteration.

    python tools/analysis_tools/compare_loss_traces.py work_dirs/a work_dirs/b [--key loss] [--chunks 8]

Each argument is a work dir (its ``loss_trace.jsonl``) or the trace file. Prints the first iteration whose value
differs at all (exactly, not to 4 decimals as the log shows) and the mean relative difference over each
chunk of the common iterations; exits 1 when the traces differ (0 when they are bit-identical).
Add the hook to both configs: ``custom_hooks = [dict(type='LossTraceHook')]``.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Optional


def read_trace(path: str, key: str = 'loss') -> Dict[int, float]:
    """iteration -> value of ``key`` from a trace file or a work dir's ``loss_trace.jsonl``."""
    if osp.isdir(path):
        path = osp.join(path, 'loss_trace.jsonl')
    if not osp.isfile(path):
        raise SystemExit(f'{path}: no loss trace (add custom_hooks = [dict(type="LossTraceHook")] to the config)')
    trace = {}
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            record = json.loads(line)
            if key not in record:
                raise SystemExit(f'{path}, line {line_no}: no key {key!r} (keys: {sorted(record)})')
            trace[int(record['iter'])] = float(record[key])
    return trace


def compare(a: Dict[int, float], b: Dict[int, float], chunks: int = 8) -> dict:
    """First differing iteration and the mean relative difference ``|a - b| / |a|`` per chunk of common iterations.

    A resumed run's re-written iterations keep their last value.
    """
    common = sorted(set(a) & set(b))
    if not common:
        raise SystemExit('the two traces share no iteration')
    first: Optional[int] = next((i for i in common if a[i] != b[i]), None)
    size = max(1, -(-len(common) // chunks))
    drift: List[dict] = []
    for start in range(0, len(common), size):
        its = common[start:start + size]
        rel = [abs(a[i] - b[i]) / max(abs(a[i]), 1e-12) for i in its]
        drift.append({'iters': (its[0], its[-1]), 'mean_rel_diff': sum(rel) / len(rel)})
    return {'common': len(common), 'first_diff': first, 'drift': drift}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('trace_a')
    parser.add_argument('trace_b')
    parser.add_argument('--key', default='loss', help='the logged value to compare (default: loss)')
    parser.add_argument('--chunks', type=int, default=8, help='how many chunks the drift is reported over')
    args = parser.parse_args(argv)
    result = compare(read_trace(args.trace_a, args.key), read_trace(args.trace_b, args.key), args.chunks)
    if result['first_diff'] is None:
        print(f'{args.key}: bit-identical over {result["common"]} common iterations')
        return 0
    print(f'{args.key}: first differs at iteration {result["first_diff"]} of {result["common"]} common ones')
    for chunk in result['drift']:
        lo, hi = chunk['iters']
        print(f'  iterations {lo}-{hi}: mean relative difference {chunk["mean_rel_diff"]:.3g}')
    return 1


if __name__ == '__main__':
    sys.exit(main())
