"""Kehu 客户 — a self-hosted CRM."""

__version__ = "0.1.0"
