from .image_classifier import ImageClassifier
from .simgcd import LegoGCD, SimGCD

__all__ = ['SimGCD', 'LegoGCD', 'ImageClassifier']
