"""Open-model selection advisor: ranks open-weight LLMs against requirements, with sourced reasons."""

__version__ = "0.1.0"
__all__ = ["__version__"]
