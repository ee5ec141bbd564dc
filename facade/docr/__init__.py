"""docr: list DigitalOcean Container Registry manifests, every page, safely."""

__version__ = "0.1.0"

__all__ = ["__version__"]
