"""The types of ResponsibleGenerator's seams, for annotations only.

The wrapper needs a watermarker (``reelproof.watermark.Watermarker``: ``embed``, ``min_side``,
``key``), a manifest store (``reelproof.provenance.ManifestStore``, a Protocol) and a C2PA signer.
The signer is typed as ``reelproof.provenance.ProvenanceSigner``, not as a Protocol of our own:
the wrapper only hands it to ``reelproof.provenance.sign``, which takes that class (the one
signer implementation: a PEM key or a signing callback behind c2pa's native signer), so a looser
Protocol here could not be passed on. The leaf packages are imported only while type checking,
so importing the generator stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from reelproof.provenance import ManifestStore as ManifestStore
    from reelproof.provenance import ProvenanceSigner
    from reelproof.watermark import Watermarker as Watermarker

    Signer: TypeAlias = ProvenanceSigner
    Seams: TypeAlias = tuple[Watermarker, Signer, ManifestStore]
