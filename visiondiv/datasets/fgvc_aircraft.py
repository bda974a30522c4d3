"""FGVC-Aircraft 2013b (variant level) from its official text files."""
import os.path as osp
from typing import List

from visiondiv.registry import DATASETS
from .classification import ClassificationDataset, parse_fields, read_text_lines


@DATASETS.register_module()
class FGVCAircraftDataset(ClassificationDataset):
    """FGVC-Aircraft 2013b, the 100 variants: ``data_root/data/{images_variant_<split>.txt, variants.txt, images/}``.

    Each line of ``images_variant_<split>.txt`` is ``<image id> <variant>``
    (variant names may hold spaces: ``Boeing 717``); samples follow its lines,
    ``img_path`` is ``data/images/<image id>.jpg``. Classes are the variants of
    ``variants.txt`` sorted by name: the class indices SimGCD's ``FGVCAircraft``
    gives (``np.unique`` of the split's variant names, all 100 in ``trainval``
    and ``test``), which its class splits refer to. Items: ``img_path``, ``gt_label``.

    Args:
        data_root (str): the ``fgvc-aircraft-2013b`` folder (SimGCD's ``aircraft_root``).
        split (str): ``'train'``, ``'val'``, ``'trainval'`` (SimGCD's GCD training
            set) or ``'test'``. Defaults to ``'trainval'``.
        **kwargs: :class:`~visiondiv.datasets.classification.ClassificationDataset` arguments.
    """

    SPLITS = ('train', 'val', 'trainval', 'test')

    def __init__(self, data_root: str, split: str = 'trainval', **kwargs) -> None:
        super().__init__(data_root=data_root, split=split, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_dir = osp.join(self.data_root, 'data')
        variants_path = osp.join(data_dir, 'variants.txt')
        classes = sorted({line for _, line in read_text_lines(variants_path)})
        self.set_classes(classes, variants_path)
        class_index = {name: i for i, name in enumerate(classes)}
        list_path = osp.join(data_dir, f'images_variant_{self.split}.txt')
        data_list = []
        for lineno, line in read_text_lines(list_path):
            image_id, variant = parse_fields(line, list_path, lineno, ('image_id', 'variant'))
            if variant not in class_index:
                raise ValueError(f'{list_path}:{lineno}: unknown variant {variant!r} (not in {variants_path})')
            img_path = osp.join(data_dir, 'images', f'{image_id}.jpg')
            self.check_image(img_path, f'{list_path}:{lineno}')
            data_list.append(dict(img_path=img_path, gt_label=class_index[variant]))
        return data_list
