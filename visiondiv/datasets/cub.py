"""CUB-200-2011 from its official text files."""
import os.path as osp
from typing import Dict, List, Tuple

from visiondiv.registry import DATASETS
from .classification import ClassificationDataset, parse_fields, parse_int, read_text_lines


def read_id_table(path: str, fields: Tuple[str, str]) -> Dict[int, Tuple[str, int]]:
    """``<integer id> <value>`` lines -> ``{id: (value, line number)}``; a repeated id is refused.

    Args:
        path (str): a CUB text file (``classes.txt``, ``images.txt``...).
        fields (tuple[str, str]): the names of the id field and of the value field, for the error messages.

    Returns:
        dict[int, tuple[str, int]]: ``{id: (value, line number)}`` in file order.

    Raises:
        FileNotFoundError: naming ``path``.
        ValueError: naming the file and the line: not two fields, a non-integer id, a repeated id.
    """
    table: Dict[int, Tuple[str, int]] = {}
    for lineno, line in read_text_lines(path):
        key, value = parse_fields(line, path, lineno, fields)
        key = parse_int(key, path, lineno, fields[0])
        if key in table:
            raise ValueError(f'{path}:{lineno}: {fields[0]} {key} repeats line {table[key][1]}')
        table[key] = (value, lineno)
    return table


@DATASETS.register_module()
class CUB200Dataset(ClassificationDataset):
    """Caltech-UCSD Birds-200-2011: ``data_root/CUB_200_2011/{images.txt, image_class_labels.txt,
    train_test_split.txt, classes.txt, images/}``.

    Samples are the images of ``images.txt``, in its order, whose
    ``train_test_split.txt`` flag is 1 (``'train'``) or 0 (``'test'``), as
    SimGCD's ``CustomCub2011``. ``gt_label`` is the position in ``classes.txt``
    of the image's class id (``class_id - 1`` for the official 1..200), class
    names are those of ``classes.txt`` (``'001.Black_footed_Albatross'``...).
    Items: ``img_path`` (``images/<path of images.txt>``), ``gt_label``.

    Args:
        data_root (str): the folder holding ``CUB_200_2011`` (SimGCD's ``cub_root``).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        **kwargs: :class:`~visiondiv.datasets.classification.ClassificationDataset` arguments.
    """

    SPLITS = ('train', 'test')

    def __init__(self, data_root: str, split: str = 'train', **kwargs) -> None:
        super().__init__(data_root=data_root, split=split, **kwargs)

    def load_data_list(self) -> List[dict]:
        root = osp.join(self.data_root, 'CUB_200_2011')
        classes_path = osp.join(root, 'classes.txt')
        classes = read_id_table(classes_path, ('class_id', 'class_name'))
        class_index = {cid: i for i, cid in enumerate(classes)}
        self.set_classes([name for name, _ in classes.values()], classes_path)
        images_path = osp.join(root, 'images.txt')
        images = read_id_table(images_path, ('image_id', 'image_path'))
        labels_path = osp.join(root, 'image_class_labels.txt')
        labels = read_id_table(labels_path, ('image_id', 'class_id'))
        split_path = osp.join(root, 'train_test_split.txt')
        is_train = read_id_table(split_path, ('image_id', 'is_training_image'))
        data_list = []
        for image_id, (rel_path, lineno) in images.items():
            for path, table in ((labels_path, labels), (split_path, is_train)):
                if image_id not in table:
                    raise ValueError(f'{path}: no line for image_id {image_id} ({images_path}:{lineno})')
            flag, flag_line = is_train[image_id]
            if flag not in ('0', '1'):
                raise ValueError(f'{split_path}:{flag_line}: is_training_image must be 0 or 1, got {flag!r}')
            if (flag == '1') != (self.split == 'train'):
                continue
            class_text, class_line = labels[image_id]
            class_id = parse_int(class_text, labels_path, class_line, 'class_id')
            if class_id not in class_index:
                raise ValueError(f'{labels_path}:{class_line}: unknown class_id {class_id} (not in {classes_path})')
            img_path = osp.join(root, 'images', rel_path)
            self.check_image(img_path, f'{images_path}:{lineno}')
            data_list.append(dict(img_path=img_path, gt_label=class_index[class_id]))
        return data_list
