"""LIVR: Latent Implicit Visual Reasoning, a reproduction (arXiv 2512.21218)."""

__version__ = "0.1.0"
