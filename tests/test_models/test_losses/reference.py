"""Independent float64 references with explicit 2x2 matrices (numpy), for the loss tests.

Written from the papers / mmrotate's formulas, one box at a time, with
numpy.linalg: nothing here is shared with visiondiv's implementation.
"""
import numpy as np


def gaussian(box):
    x, y, w, h, t = [float(v) for v in box]
    w, h = np.clip([w, h], 1e-7, 1e7)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    sigma = rot @ np.diag([w * w / 4, h * h / 4]) @ rot.T
    return np.array([x, y]), sigma


def kl(mu_a, s_a, mu_b, s_b, alpha=1.0):
    """KL(N_a || N_b)."""
    inv_b = np.linalg.inv(s_b)
    d = mu_a - mu_b
    return 0.5 * (np.trace(inv_b @ s_a) + d @ inv_b @ d / alpha ** 2 - 2
                  + np.log(np.linalg.det(s_b)) - np.log(np.linalg.det(s_a)))


def post(d, fun, tau):
    if fun == 'log1p':
        d = np.log1p(d)
    elif fun == 'sqrt':
        d = np.sqrt(d)
    return 1 - 1 / (tau + d) if tau >= 1 else d


def gd_loss(pred, target, loss_type, fun='log1p', tau=0.0, alpha=1.0, sqrt=True):
    """mmrotate GDLoss per box (stable version), float64."""
    mp, sp = gaussian(pred)
    mt, st = gaussian(target)
    root = (lambda v: np.sqrt(max(v, 0))) if sqrt else (lambda v: v)
    if loss_type == 'kld':
        d = root(kl(mt, st, mp, sp, alpha))
    elif loss_type == 'kld_reverse':
        d = root(kl(mp, sp, mt, st, alpha))
    elif loss_type == 'jd':
        d = root(0.5 * (kl(mt, st, mp, sp, alpha) + kl(mp, sp, mt, st, alpha)))
    elif loss_type == 'kld_symmax':
        d = max(root(kl(mt, st, mp, sp, alpha)), root(kl(mp, sp, mt, st, alpha)))
    elif loss_type == 'kld_symmin':
        d = min(root(kl(mt, st, mp, sp, alpha)), root(kl(mp, sp, mt, st, alpha)))
    elif loss_type == 'bcd':
        s = (sp + st) / 2
        dm = mp - mt
        d = root(dm @ np.linalg.inv(s) @ dm / 8 + 0.5 * np.log(
            np.linalg.det(s) / np.sqrt(np.linalg.det(sp) * np.linalg.det(st))))
    elif loss_type == 'gwd':
        # W2^2 with the matrix square root taken by eigendecomposition
        vals, vecs = np.linalg.eigh(sp)
        sp_half = vecs @ np.diag(np.sqrt(vals)) @ vecs.T
        inner = sp_half @ st @ sp_half
        vals2 = np.linalg.eigvalsh(inner)
        tr_sqrt = np.sqrt(np.clip(vals2, 0, None)).sum()
        w2 = np.sum((mp - mt) ** 2) + alpha ** 2 * (np.trace(sp) + np.trace(st) - 2 * tr_sqrt)
        d = np.sqrt(max(w2, 0)) / (2 * (np.linalg.det(sp) * np.linalg.det(st)) ** 0.125)
    else:
        raise ValueError(loss_type)
    return post(d, fun, tau)


def kfiou(pred_decode, target_decode):
    _, sp = gaussian(pred_decode)
    _, st = gaussian(target_decode)
    k = sp @ np.linalg.inv(sp + st)
    s = sp - k @ sp
    vb = 4 * np.sqrt(max(np.linalg.det(s), 0))
    vp, vt = 4 * np.sqrt(np.linalg.det(sp)), 4 * np.sqrt(np.linalg.det(st))
    return vb / (vp + vt - vb + 1e-6)


def kf_loss(pred, target, pred_decode, target_decode, fun='none', beta=1 / 9):
    diff = np.abs(np.asarray(pred[:2], float) - np.asarray(target[:2], float))
    xy = np.where(diff < beta, 0.5 * diff ** 2 / beta, diff - 0.5 * beta).sum()
    iou = kfiou(pred_decode, target_decode)
    kf = {'none': 1 - iou, 'ln': -np.log(iou + 1e-6), 'exp': np.exp(1 - iou) - 1}[fun]
    return max(xy + kf, 0.0)
