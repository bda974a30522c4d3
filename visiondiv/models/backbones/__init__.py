from .enet import ENet

__all__ = ['ENet']
