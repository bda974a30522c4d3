"""Generate the embedded toy DOTA-format dataset of rotated objects (deterministic).

Three classes that differ in shape and aspect ratio, drawn at random
orientations on textured backgrounds of 256-512 px:

- ``ship``: long and thin (aspect 4-7), with a pointed bow;
- ``tank``: near-square body with a round turret;
- ``plane``: cross-shaped (fuselage, wings, tailplane).

Layout::

    OUT/train/images/P0000.png   OUT/train/labelTxt/P0000.txt   (x1 y1 ... x4 y4 class difficulty)
    OUT/val/...

    python tools/data/toy_dota.py --out data/toy_dota [--num-train 240 --num-val 300 --seed 0]
"""
import argparse
import math
import os
import os.path as osp
from typing import List, Tuple

import cv2
import numpy as np

CLASSES = ('ship', 'tank', 'plane')


def _rot(points: np.ndarray, angle: float, center: Tuple[float, float]) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, s], [-s, c]]) + np.asarray(center)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = rng.uniform(60, 150, 3)
    low = cv2.resize(rng.normal(0, 1, (max(h // 32, 2), max(w // 32, 2), 3)), (w, h), interpolation=cv2.INTER_CUBIC)
    mid = cv2.resize(rng.normal(0, 1, (max(h // 8, 2), max(w // 8, 2), 3)), (w, h), interpolation=cv2.INTER_LINEAR)
    img = base + 25 * low + 10 * mid + rng.normal(0, 6, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _shape(cls: str, rng: np.random.Generator) -> Tuple[List[np.ndarray], float, float]:
    """Polygons in the object frame (x along w) and the object's (w, h)."""
    if cls == 'ship':
        length = rng.uniform(50, 110)
        width = length / rng.uniform(4, 7)
        hl, hw = length / 2, width / 2
        hull = np.array([[-hl, -hw], [hl - width, -hw], [hl, 0], [hl - width, hw], [-hl, hw]])
        deck = np.array([[-hl * 0.5, -hw * 0.4], [hl * 0.2, -hw * 0.4], [hl * 0.2, hw * 0.4], [-hl * 0.5, hw * 0.4]])
        return [hull, deck], length, width
    if cls == 'tank':
        side = rng.uniform(22, 36)
        w, h = side * rng.uniform(1.0, 1.25), side
        body = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
        return [body], w, h
    length = rng.uniform(40, 72)
    span = length * rng.uniform(0.8, 1.0)
    f = length / 7
    fuselage = np.array([[-length / 2, -f / 2], [length / 2 - f, -f / 2], [length / 2, 0],
                         [length / 2 - f, f / 2], [-length / 2, f / 2]])
    wing = np.array([[-f, -span / 2], [f * 0.6, -span / 2], [f * 1.4, span / 2], [-f, span / 2]])
    wing[:, 0] += length * 0.05
    tail = np.array([[-length / 2, -span / 5], [-length / 2 + f, -span / 5], [-length / 2 + f, span / 5],
                     [-length / 2, span / 5]])
    return [fuselage, wing, tail], length, span


COLOURS = {'ship': ((215, 215, 225), (120, 120, 130)), 'tank': ((40, 70, 50), (20, 35, 25)),
           'plane': ((245, 245, 245), (170, 170, 180))}


def draw_object(img: np.ndarray, cls: str, rng: np.random.Generator, center, angle) -> np.ndarray:
    polys, w, h = _shape(cls, rng)
    main, detail = COLOURS[cls]
    jitter = rng.integers(-15, 16, 3)
    main = tuple(int(np.clip(c + j, 0, 255)) for c, j in zip(main, jitter))
    for k, poly in enumerate(polys):
        pts = np.round(_rot(poly, angle, center) * 8).astype(np.int32)
        colour = main if (k == 0 or cls == 'plane') else detail
        cv2.fillPoly(img, [pts], colour, lineType=cv2.LINE_AA, shift=3)
    if cls == 'tank':
        centre = tuple(int(v * 8) for v in center)
        cv2.circle(img, centre, int(h * 0.3 * 8), detail, -1, lineType=cv2.LINE_AA, shift=3)
    corners = _rot(np.array([[w / 2, h / 2], [w / 2, -h / 2], [-w / 2, -h / 2], [-w / 2, h / 2]]), angle, center)
    return corners


def make_image(rng: np.random.Generator) -> Tuple[np.ndarray, List[Tuple[np.ndarray, str]]]:
    h, w = (int(v) for v in rng.integers(256, 513, 2))
    img = _background(rng, h, w)
    objects, taken = [], []
    n = int(rng.integers(0, 9)) if rng.random() > 0.04 else 0
    for _ in range(n * 4):
        if len(objects) >= n:
            break
        cls = CLASSES[int(rng.integers(0, 3))]
        r = 60 if cls != 'tank' else 25
        center = (rng.uniform(r, w - r), rng.uniform(r, h - r))
        if any(math.hypot(center[0] - c[0], center[1] - c[1]) < (r + rr) * 0.9 for c, rr in taken):
            continue
        corners = draw_object(img, cls, rng, center, rng.uniform(0, math.pi))
        taken.append((center, r))
        objects.append((corners, cls))
    img = cv2.GaussianBlur(img, (3, 3), 0.6)
    return img, objects


def generate(out_dir: str, num_train: int = 240, num_val: int = 300, seed: int = 0) -> None:
    """Write the toy dataset under ``out_dir`` (same files for the same arguments)."""
    rng = np.random.default_rng(seed)
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir, ann_dir = osp.join(out_dir, split, 'images'), osp.join(out_dir, split, 'labelTxt')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(count):
            img, objects = make_image(rng)
            name = f'P{i:04d}'
            cv2.imwrite(osp.join(img_dir, name + '.png'), img)
            with open(osp.join(ann_dir, name + '.txt'), 'w') as f:
                for corners, cls in objects:
                    f.write(' '.join(f'{v:.1f}' for v in corners.reshape(-1)) + f' {cls} 0\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/toy_dota')
    parser.add_argument('--num-train', type=int, default=240)
    parser.add_argument('--num-val', type=int, default=300)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    marker = osp.join(args.out, f'.generated-{args.num_train}-{args.num_val}-{args.seed}')
    if osp.exists(marker):
        print(f'toy dataset already at {args.out}')
        return
    generate(args.out, args.num_train, args.num_val, args.seed)
    open(marker, 'w').close()
    print(f'toy dataset written to {args.out}: {args.num_train} train / {args.num_val} val images')


if __name__ == '__main__':
    main()
