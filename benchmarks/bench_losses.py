"""Speed and peak memory of GDLoss (KLD) / KFLoss (KFIoU) against a straightforward implementation.

The baseline, written here, is the textbook form: box -> Sigma by matrix
products, then torch.linalg.inv and torch.linalg.det on the 2x2 matrices
(as mmrotate does). Both run forward + backward on the same boxes in the
same process; the script prints time ratios (baseline / ours, > 1 means
faster) and peak extra memory measured in fresh subprocesses.

    python benchmarks/bench_losses.py [--sizes 1000 10000 100000 1000000] [--device cpu]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import torch


def make_boxes(n: int, device: str, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 1000
    wh = torch.rand(n, 2, generator=g) * 100 + 2
    t = (torch.rand(n, 1, generator=g) - 0.5) * 3.14
    target = torch.cat([xy, wh, t], 1)
    pred = target + torch.randn(n, 5, generator=g) * torch.tensor([3, 3, 2, 2, 0.2])
    pred[:, 2:4] = pred[:, 2:4].abs() + 1
    deltas = torch.randn(n, 5, generator=g) * 0.3
    return pred.to(device), target.to(device), deltas.to(device)


def naive_sigma(boxes):
    wh = boxes[:, 2:4].clamp(1e-7, 1e7)
    c, s = torch.cos(boxes[:, 4]), torch.sin(boxes[:, 4])
    rot = torch.stack([c, -s, s, c], -1).reshape(-1, 2, 2)
    return rot @ torch.diag_embed(wh * wh / 4) @ rot.transpose(1, 2)


def naive_kld(pred, target):
    sp, st = naive_sigma(pred), naive_sigma(target)
    sp_inv = torch.linalg.inv(sp)
    d = (pred[:, :2] - target[:, :2]).unsqueeze(-1)
    maha = 0.5 * (d.transpose(1, 2) @ sp_inv @ d).reshape(-1)
    tr = 0.5 * (sp_inv @ st).diagonal(dim1=-2, dim2=-1).sum(-1)
    dist = maha + tr + 0.5 * (torch.linalg.det(sp).log() - torch.linalg.det(st).log()) - 1
    return (1 - 1 / (1 + torch.log1p(dist))).mean()


def naive_kfiou(pred, target, pred_dec, target_dec):
    sp, st = naive_sigma(pred_dec), naive_sigma(target_dec)
    diff = (pred[:, :2] - target[:, :2]).abs()
    xy = torch.where(diff < 1 / 9, 0.5 * diff * diff * 9, diff - 0.5 / 9).sum(-1)
    k = sp @ torch.linalg.inv(sp + st)
    s = sp - k @ sp
    vb = 4 * torch.linalg.det(s).clamp_min(0).sqrt()
    vp, vt = 4 * torch.linalg.det(sp).sqrt(), 4 * torch.linalg.det(st).sqrt()
    return (xy + 1 - vb / (vp + vt - vb + 1e-6)).clamp_min(0).mean()


def build(name: str):
    from visiondiv.models.losses import GDLoss, KFLoss
    kld = GDLoss(fun='log1p', tau=1.0, sqrt=False)
    kfiou = KFLoss()
    return {
        'kld_ours': lambda p, t, d: kld(p, t),
        'kld_naive': lambda p, t, d: naive_kld(p, t),
        'kfiou_ours': lambda p, t, d: kfiou(d, d * 0, pred_decode=p, targets_decode=t),
        'kfiou_naive': lambda p, t, d: naive_kfiou(d, d * 0, p, t),
    }[name]


def run_once(fn, pred, target, deltas):
    p = pred.clone().requires_grad_(True)
    d = deltas.clone().requires_grad_(True)
    loss = fn(p, target, d)
    loss.backward()
    return loss.item()


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_fn(name, n, device, repeats):
    fn = build(name)
    pred, target, deltas = make_boxes(n, device)
    run_once(fn, pred, target, deltas)  # warm-up
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        run_once(fn, pred, target, deltas)
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def child_memory(name: str, n: int, device: str) -> int:
    """Run in a fresh process: peak bytes above the memory in use once the inputs exist."""
    fn = build(name)
    pred, target, deltas = make_boxes(n, device)
    run_once(fn, pred[:8], target[:8], deltas[:8])  # one-off lazy initialisation outside the window
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        run_once(fn, pred, target, deltas)
        return torch.cuda.max_memory_allocated() - base
    # Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    base = _status_kib('VmRSS')
    run_once(fn, pred, target, deltas)
    return (_status_kib('VmHWM') - base) * 1024


def peak_memory(name, n, device):
    out = subprocess.run([sys.executable, __file__, '--child', name, str(n), device],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1000, 10000, 100000, 1000000])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--json', help='also write the rows to this file')
    parser.add_argument('--child', nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(child_memory(args.child[0], int(args.child[1]), args.child[2]))
        return
    print(f'torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}')
    print(f'{"loss":6} {"boxes":>8} {"naive ms":>10} {"ours ms":>10} {"speed x":>8} '
          f'{"naive MiB":>10} {"ours MiB":>10} {"mem ratio":>9}')
    rows = []
    for loss in ('kld', 'kfiou'):
        for n in args.sizes:
            repeats = max(2, args.repeats if n < 1000000 else args.repeats // 2)
            t_naive = time_fn(f'{loss}_naive', n, args.device, repeats)
            t_ours = time_fn(f'{loss}_ours', n, args.device, repeats)
            m_naive = peak_memory(f'{loss}_naive', n, args.device)
            m_ours = peak_memory(f'{loss}_ours', n, args.device)
            row = dict(loss=loss, boxes=n, naive_ms=t_naive * 1e3, ours_ms=t_ours * 1e3,
                       speedup=t_naive / t_ours, naive_mib=m_naive / 2 ** 20, ours_mib=m_ours / 2 ** 20,
                       mem_ratio=m_ours / max(m_naive, 1))
            rows.append(row)
            print(f'{loss:6} {n:>8} {row["naive_ms"]:>10.2f} {row["ours_ms"]:>10.2f} {row["speedup"]:>8.2f} '
                  f'{row["naive_mib"]:>10.1f} {row["ours_mib"]:>10.1f} {row["mem_ratio"]:>9.2f}', flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
