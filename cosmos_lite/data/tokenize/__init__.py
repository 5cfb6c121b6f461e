"""``cosmos-lite tokenize``: videos -> safetensors shards of latents or token ids, resumably.

    from cosmos_lite.data.tokenize import TokenizeOptions, tokenize_videos
    summary = tokenize_videos(["videos/"], "tokens/", "default-cv", TokenizeOptions(size=(128, 192)))

The job in three steps, one module each: :mod:`.inputs` (files, folders, manifests
with captions and actions), :mod:`.plan` (probe every file, fix the clip list and the
job's identity in ``plan.json`` / ``tokenize.json``), :mod:`.encode` (decode in worker
processes, encode, write shards atomically, merge the manifest). Shards are read back
with :class:`cosmos_lite.data.shards.TokenShards`.
"""

from .encode import detokenize_clips, tokenize_videos
from .inputs import Source, resolve_inputs
from .plan import TokenizeOptions, TokenizeSummary, tokenizer_dir, weights_sha256

__all__ = ["Source", "TokenizeOptions", "TokenizeSummary", "detokenize_clips", "resolve_inputs", "tokenize_videos",
           "tokenizer_dir", "weights_sha256"]
