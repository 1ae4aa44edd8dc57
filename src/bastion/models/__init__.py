"""Learned models served on the guard path (torch-free: onnxruntime, tokenizers, numpy)."""
