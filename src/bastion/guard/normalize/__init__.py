"""Tier-0 text normalisation that defeats obfuscation (see :func:`normalize`)."""

from bastion.guard.normalize.normalizer import NormalizeConfig, normalize

__all__ = ["NormalizeConfig", "normalize"]
