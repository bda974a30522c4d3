"""Compare box losses on the toy DOTA set with one schedule: smooth-L1 (deltas), GWD, KLD, KFIoU.

``--study detectors`` trains the other detector families' toy configs instead (R3Det, S2ANet,
Oriented R-CNN, Rotated Faster R-CNN, RTMDet-R), each with its baseline loss and its KLD/KFIoU
variant, and writes ``benchmarks/results/loss_study_detectors``.

For each loss and seed: train with tools/train.py, predict on toy val with
tools/test.py --out, then report mAP50, mAP75 and the mean angle error on
high-aspect-ratio objects (ground truth with w/h >= 4: the ships).
The angle error of a ground truth is measured against its best-IoU
same-class prediction with score >= 0.3 (IoU > 0.1 to count as found), as
the smallest angle between the long axes, in degrees. The table
(benchmarks/result_tables.py) goes to table.md and the results regions of the config READMEs.

    python benchmarks/loss_study.py --seeds 0 1 2 --out benchmarks/results/loss_study
    python benchmarks/loss_study.py --study detectors --seeds 0
"""
import argparse
import json
import math
import os
import os.path as osp
import pickle
import re
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # result_tables.py beside this file, also when loaded by path
from result_tables import default_files, loss_study_table, update  # noqa: E402
from visiondiv.utils.reproducibility import machine_facts  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
LOSSES = {
    'smooth-L1': 'configs/rotated_retinanet/rotated-retinanet-rbox-le90_r18-tiny_fpn_16e_toy-dota.py',
    'GWD': 'configs/gwd/rotated-retinanet-rbox-le90_r18-tiny_fpn_gwd_16e_toy-dota.py',
    'KLD': 'configs/kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py',
    'KFIoU': 'configs/kfiou/rotated-retinanet-rbox-le90_r18-tiny_fpn_kfiou_16e_toy-dota.py',
}
#: the other families' toy configs: (family + loss) -> config; each family's baseline loss first
DETECTORS = {
    'R3Det-tiny + smooth-L1': 'configs/r3det/r3det-tiny-oc_r18-tiny_fpn_16e_toy-dota.py',
    'R3Det-tiny + KLD': 'configs/kld/r3det-tiny-oc_r18-tiny_fpn_kld-stable_16e_toy-dota.py',
    'S2ANet + smooth-L1': 'configs/s2anet/s2anet-le135_r18-tiny_fpn_16e_toy-dota.py',
    'S2ANet + KFIoU': 'configs/kfiou/s2anet-le135_r18-tiny_fpn_kfiou-ln_16e_toy-dota.py',
    'Oriented R-CNN + smooth-L1': 'configs/oriented_rcnn/oriented-rcnn-le90_r18-tiny_fpn_16e_toy-dota.py',
    'Oriented R-CNN + KFIoU': 'configs/oriented_rcnn/oriented-rcnn-le90_r18-tiny_fpn_kfiou-ln_16e_toy-dota.py',
    'Rotated Faster R-CNN + smooth-L1':
        'configs/rotated_faster_rcnn/rotated-faster-rcnn-le90_r18-tiny_fpn_16e_toy-dota.py',
    'RTMDet-R-tiny + IoU': 'configs/rotated_rtmdet/rotated_rtmdet_tiny_16e_toy-dota.py',
    'RTMDet-R-tiny + KLD': 'configs/rotated_rtmdet/rotated_rtmdet_tiny_kld_16e_toy-dota.py',
    'RTMDet-R-tiny + KFIoU': 'configs/rotated_rtmdet/rotated_rtmdet_tiny_kfiou_16e_toy-dota.py',
    'Rotated FCOS + CSL (hbox IoU)':
        'configs/rotated_fcos/rotated-fcos-hbox-le90_r18-tiny_fpn_csl-gaussian_16e_toy-dota.py',
}
STUDIES = {'losses': (LOSSES, 'benchmarks/results/loss_study'),
           'detectors': (DETECTORS, 'benchmarks/results/loss_study_detectors')}


def run(cmd, log_path):
    with open(log_path, 'w') as log:
        subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)
    return open(log_path).read()


def best_matches(pkl_path, min_score=0.3):
    """For every ground truth of the dumped predictions: (box, label, best same-class prediction, its IoU).

    Boxes are in le90 form; predictions below ``min_score`` are ignored; with no same-class
    prediction the match is (None, 0.0).
    """
    from visiondiv.structures.bbox import rbbox_overlaps, regularize_rboxes
    with open(pkl_path, 'rb') as f:
        samples = pickle.load(f)
    for s in samples:
        gt, pred = s['gt_instances'], s['pred_instances']
        g = gt['bboxes'].tensor if hasattr(gt['bboxes'], 'tensor') else torch.as_tensor(gt['bboxes'])
        p = pred['bboxes'].tensor if hasattr(pred['bboxes'], 'tensor') else torch.as_tensor(pred['bboxes'])
        keep = pred['scores'] >= min_score
        g = regularize_rboxes(g.float(), 'le90')
        p, p_labels = regularize_rboxes(p[keep].float(), 'le90'), pred['labels'][keep]
        for box, label in zip(g, gt['labels']):
            cand = p[p_labels == label]
            if len(cand) == 0:
                yield box, int(label), None, 0.0
                continue
            ious = rbbox_overlaps(box[None], cand)[0]
            best = int(ious.argmax())
            yield box, int(label), cand[best], float(ious[best])


def angle_errors(pkl_path, min_aspect=4.0, min_score=0.3):
    """(mean angle error in degrees over found high-aspect GT, fraction of them found)."""
    errors, total = [], 0
    for box, _, match, iou in best_matches(pkl_path, min_score):
        if box[2] < min_aspect * box[3]:
            continue
        total += 1
        if match is None or iou <= 0.1:
            continue
        d = float(match[4] - box[4])
        errors.append(math.degrees(abs((d + math.pi / 2) % math.pi - math.pi / 2)))
    return (float(np.mean(errors)) if errors else float('nan')), (len(errors) / total if total else 0.0)


def matched_iou_per_class(pkl_path, num_classes=3, min_score=0.3):
    """Mean rotated IoU between each ground truth and its best same-class prediction (IoU >= 0.5 counted)."""
    per = [[] for _ in range(num_classes)]
    for _, label, _, iou in best_matches(pkl_path, min_score):
        if iou >= 0.5:
            per[label].append(iou)
    return [float(np.mean(v)) if v else float('nan') for v in per]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--study', default='losses', choices=list(STUDIES),
                        help='losses: the RetinaNet loss study; detectors: the other families')
    parser.add_argument('--losses', nargs='+', default=None, metavar='ROW',
                        help="rows to run (default all of the study's)")
    parser.add_argument('--out', default=None, help="results folder (default the study's)")
    parser.add_argument('--report-only', action='store_true', help='only rebuild the table from finished runs')
    args = parser.parse_args()
    configs, default_out = STUDIES[args.study]
    unknown = sorted(set(args.losses or ()) - set(configs))
    if unknown:
        parser.error(f'--losses: unknown row(s) {unknown} for --study {args.study}; known: {list(configs)}')
    args.losses = args.losses or list(configs)
    args.out = args.out or default_out
    out = osp.join(ROOT, args.out)
    os.makedirs(out, exist_ok=True)
    if not args.report_only:
        subprocess.run([sys.executable, 'tools/data/toy_dota.py', '--out', 'data/toy_dota'], cwd=ROOT, check=True)
    rows = []
    results_path = osp.join(out, 'runs.json')
    if osp.exists(results_path):
        rows = json.load(open(results_path))
    done = {(r['loss'], r['seed']) for r in rows}
    for loss in args.losses:
        for seed in args.seeds:
            if (loss, seed) in done or args.report_only:
                continue
            wd = osp.join(out, f'{loss}_seed{seed}')
            start = time.time()
            run([sys.executable, 'tools/train.py', configs[loss], '--work-dir', wd,
                 '--cfg-options', f'randomness.seed={seed}'], osp.join(out, f'{loss}_seed{seed}_train.log'))
            ckpt = open(osp.join(wd, 'last_checkpoint')).read().strip()
            pkl = osp.join(wd, 'val_predictions.pkl')
            text = run([sys.executable, 'tools/test.py', configs[loss], ckpt, '--work-dir', wd, '--out', pkl],
                       osp.join(out, f'{loss}_seed{seed}_test.log'))
            ap50 = float(re.findall(r'dota/AP50: ([0-9.]+)', text)[-1])
            ap75 = float(re.findall(r'dota/AP75: ([0-9.]+)', text)[-1])
            err, found = angle_errors(pkl)
            rows.append(dict(loss=loss, seed=seed, mAP50=ap50, mAP75=ap75, angle_err_deg=err, ships_found=found,
                             minutes=(time.time() - start) / 60, machine=machine_facts()))
            print(json.dumps(rows[-1]), flush=True)
            json.dump(rows, open(results_path, 'w'), indent=1)
    for r in rows:
        pkl = osp.join(out, f'{r["loss"]}_seed{r["seed"]}', 'val_predictions.pkl')
        if 'iou_ship' not in r and osp.exists(pkl):
            r['iou_ship'], r['iou_tank'], r['iou_plane'] = matched_iou_per_class(pkl)
    json.dump(rows, open(results_path, 'w'), indent=1)
    table = loss_study_table(rows)
    open(osp.join(out, 'table.md'), 'w').write(table)
    print(table, end='')
    if args.out == default_out:  # the READMEs quote the default results only
        for path in update(default_files()):
            print(f'updated {osp.relpath(path, ROOT)}')


if __name__ == '__main__':
    main()
