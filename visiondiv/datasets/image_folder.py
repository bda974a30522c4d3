"""A generic ``root/<class>/<image>`` dataset (torchvision's ``ImageFolder`` layout)."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

from visiondiv.registry import DATASETS
from .classification import ClassificationDataset, read_text_lines

#: torchvision's ``IMG_EXTENSIONS`` (matched case-insensitively)
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')


def read_class_list(classes: Union[str, Sequence[str]]) -> List[str]:
    """Class names given as a sequence, or as the path of a text file with one name per line.

    Args:
        classes (str | Sequence[str]): the names, or the path of a UTF-8 text file with one name per line
            (blank lines skipped, names stripped).

    Returns:
        list[str]: the names, in the given order (each converted with ``str``).

    Raises:
        FileNotFoundError: naming the file when ``classes`` is a path that does not exist.
        ValueError: naming the file when it is not UTF-8 text.
    """
    if isinstance(classes, str):
        return [line for _, line in read_text_lines(classes)]
    return [str(c) for c in classes]


def class_folders(root: str) -> List[str]:
    """The sorted names of the sub-folders of ``root`` (hidden ones, ``.name``, left out).

    Args:
        root (str): the folder to list.

    Returns:
        list[str]: the sub-folder names, sorted.

    Raises:
        FileNotFoundError: naming ``root`` when it is not a folder.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'image folder not found: {root}')
    with os.scandir(root) as entries:
        return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith('.'))


def scan_image_folder(root: str, classes: Optional[Sequence[str]] = None,
                      extensions: Sequence[str] = IMG_EXTENSIONS) -> Tuple[Tuple[str, ...], List[Tuple[str, int]]]:
    """The classes and ``(image path, label)`` samples of ``root/<class>/**/<image>``, as torchvision's ImageFolder.

    Classes are ``classes`` in the given order, or else the sorted sub-folder
    names. Each class folder is walked recursively (symbolic links followed),
    folders in sorted order and files sorted by name, keeping the files whose
    lower-cased name ends with one of ``extensions``; the sample order and
    labels are therefore those of ``torchvision.datasets.ImageFolder``, except
    that hidden folders (``.ipynb_checkpoints``) are not taken as classes.

    Args:
        root (str): the folder of class folders.
        classes (Sequence[str], optional): the class folder names, in label order; None: every
            sub-folder of ``root``, sorted. Defaults to None.
        extensions (Sequence[str]): the file name endings kept (case-insensitive). Defaults to
            ``IMG_EXTENSIONS`` (torchvision's: ``.jpg``, ``.jpeg``, ``.png``, ``.ppm``, ``.bmp``, ``.pgm``,
            ``.tif``, ``.tiff``, ``.webp``).

    Returns:
        tuple: ``(classes, samples)``: the class names (tuple of str) and the ``(image path, label)``
        samples (list of tuples), label the index in ``classes``.

    Raises:
        FileNotFoundError: naming ``root``, a class folder missing, or a class folder without images.
        ValueError: a class named twice.
    """
    found = class_folders(root)
    if classes is None:
        classes = found
        if not classes:
            raise FileNotFoundError(f'{root}: no class sub-folder')
    classes = tuple(classes)
    seen = set()
    for name in classes:
        if name in seen:
            raise ValueError(f'{root}: class {name!r} is listed twice')
        seen.add(name)
    found_set = set(found)
    missing = [name for name in classes if name not in found_set]
    if missing:
        raise FileNotFoundError(f'{root}: no folder for class(es) {missing[:10]}'
                                f'{" ..." if len(missing) > 10 else ""} ({len(missing)} missing)')
    exts = tuple(e.lower() for e in extensions)
    samples = []
    for label, name in enumerate(classes):
        n_before = len(samples)
        for dirpath, _, fnames in sorted(os.walk(osp.join(root, name), followlinks=True)):
            samples.extend((osp.join(dirpath, f), label) for f in sorted(fnames) if f.lower().endswith(exts))
        if len(samples) == n_before:
            raise FileNotFoundError(f'{osp.join(root, name)}: no image file (extensions {", ".join(exts)}) '
                                    f'for class {name!r}')
    return classes, samples


@DATASETS.register_module()
class ImageFolderDataset(ClassificationDataset):
    """Images sorted into one sub-folder per class: ``data_root/<class>/<image>`` (sub-folders allowed).

    Classes are the sorted folder names unless ``classes`` names them (then
    only those, in that order); samples and labels are those of torchvision's
    ``ImageFolder`` (see :func:`scan_image_folder`). Items: ``img_path``, ``gt_label``.

    Args:
        data_root (str): the folder of class folders; with ``data_prefix=dict(img_path=sub)``
            the class folders are in ``data_root/sub``.
        classes (str | Sequence[str], optional): class folder names, or the path of a
            text file with one per line; None: every class folder. Defaults to None.
        extensions (Sequence[str]): file name endings kept (case-insensitive). Defaults to
            ``IMG_EXTENSIONS`` (torchvision's ``IMG_EXTENSIONS``).
        **kwargs: :class:`~visiondiv.datasets.classification.ClassificationDataset` arguments.
    """

    def __init__(self, data_root: str, classes: Optional[Union[str, Sequence[str]]] = None,
                 extensions: Sequence[str] = IMG_EXTENSIONS, **kwargs) -> None:
        self.classes_arg = classes
        self.extensions = tuple(extensions)
        super().__init__(data_root=data_root, **kwargs)

    def image_root(self) -> str:
        """The folder holding the class folders."""
        return osp.normpath(self.data_prefix.get('img_path') or self.data_root)

    def selected_classes(self) -> Optional[List[str]]:
        """The class names to read (None: all class folders)."""
        return None if self.classes_arg is None else read_class_list(self.classes_arg)

    def load_data_list(self) -> List[dict]:
        root = self.image_root()
        classes, samples = scan_image_folder(root, self.selected_classes(), self.extensions)
        self.set_classes(classes, root)
        return [dict(img_path=path, gt_label=label) for path, label in samples]
