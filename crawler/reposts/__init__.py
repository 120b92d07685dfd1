"""Reposts: whether two bodies are one story (`similarity`)."""
