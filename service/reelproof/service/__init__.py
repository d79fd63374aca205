"""reelproof.service."""
