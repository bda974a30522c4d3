"""An independent float64 DINO-style ViT (the official ``vision_transformer.py`` written out, with its key
names) for the tests of CLSTokenVisionTransformer and the DINO converter."""
import math

import torch
from torch import nn

TINY = dict(img_size=32, patch_size=8, embed_dims=32, num_layers=2, num_heads=2, in_channels=3)


def _layer_norm(x, norm):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-6) * norm.weight + norm.bias


def _gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


class _Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.Module()
        self.attn.qkv, self.attn.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Module()
        self.mlp.fc1, self.mlp.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.attn.qkv(_layer_norm(x, self.norm1)).reshape(b, n, 3, self.heads, c // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)                      # (B, heads, N, c/heads) each
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(c // self.heads), dim=-1)
        x = x + self.attn.proj((weights @ v).transpose(1, 2).reshape(b, n, c))
        return x + self.mlp.fc2(_gelu(self.mlp.fc1(_layer_norm(x, self.norm2))))


class DinoViT(nn.Module):
    """DINO's ViT forward (no dropout): patch conv, CLS token, position embedding, pre-norm blocks, final norm;
    returns the CLS token. Random float64 weights from ``seed``."""

    def __init__(self, img_size=32, patch_size=8, embed_dims=32, num_layers=2, num_heads=2, in_channels=3, seed=0):
        super().__init__()
        grid = img_size // patch_size
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(in_channels, embed_dims, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, embed_dims))
        self.blocks = nn.ModuleList(_Block(embed_dims, num_heads) for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dims)
        self.double()
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                noise = torch.randn(p.shape, generator=gen, dtype=torch.float64)
                p.copy_(1 + 0.2 * noise if 'norm' in name and name.endswith('weight') else 0.15 * noise)

    def forward(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return _layer_norm(x, self.norm)[:, 0]
