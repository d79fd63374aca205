"""reelproof.watermark."""
