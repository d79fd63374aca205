"""The moderation API (``reelproof serve``): FastAPI app, job store, workers, auth."""

from reelproof.service.api.settings import ServiceSettings

__all__ = ["ServiceSettings"]
