"""World generators over tokenizer latents (diffusion) and token ids (autoregressive)."""
