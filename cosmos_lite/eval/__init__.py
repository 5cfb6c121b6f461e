"""Instruments and evaluations: what a viewer would see, measured against the simulator.

- :mod:`.metrics`: PSNR, SSIM, MS-SSIM, bits per pixel, codebook statistics.
- :mod:`.tokenizer`: ``cosmos-lite eval tokenizer`` (reconstruction and H.264 at the same rate).
- :mod:`.reader`: the scene reader (weather, lighting, event, visible agents; bundled weights).
- :mod:`.idm`: the inverse dynamics model (frames -> ego actions; bundled weights).
- :mod:`.world_model`: ``cosmos-lite eval world-model``.

Submodules import torch; nothing here is imported by ``import cosmos_lite``.
"""
