from .simgcd import LegoGCD, SimGCD

__all__ = ['SimGCD', 'LegoGCD']
