"""The test model: a tiny llama-architecture GGUF with random weights that the real llama.cpp
engine loads and runs. No weights can be downloaded here, so tests and the offline demo use it.

It writes nonsense, fast. Same seed, same bytes. What makes random weights usable:

* **a bias dimension**: the last embedding dimension is 1.0 for every token, and no attention or
  feed-forward output ever writes to it (their output rows for it are zero), so after the final
  RMS norm it is still a positive constant. The output layer's column for that dimension is then
  a per-token bias: control, unknown and byte tokens get a huge negative one, so sampling never
  picks them; otherwise random weights stop at once (an early control token) or emit broken
  UTF-8 (lone byte tokens);
* **an EOS bias** on ``<|im_end|>``, so replies end on their own after some words instead of
  always running to ``max_tokens``;
* **a SentencePiece-style vocabulary** whose every word piece has all its prefixes in the
  vocabulary, with scores that favour longer pieces, so llama.cpp's merges reach whole words.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inhouse.runtimes.protocol import ModelInfo

__all__ = [
    "TEST_MODEL_CONTEXT",
    "TEST_MODEL_FILENAME",
    "TEST_MODEL_LABEL",
    "TEST_MODEL_NAME",
    "TEST_MODEL_REAL_PROGRAM",
    "is_test_model",
    "make_test_model",
    "names_test_model",
    "serves_test_model",
]

TEST_MODEL_NAME = "inhouse-test-model"
TEST_MODEL_FILENAME = f"{TEST_MODEL_NAME}.gguf"
TEST_MODEL_CONTEXT = 256
#: what anything that shows this model's output says about it
TEST_MODEL_LABEL = "inhouse test model (random weights: it writes nonsense)"
#: what a real (non-demo) program is told where it first meets this model: plays 1 and 2
#: refuse a verdict or rerun on it, and play 3 a workflow run on it
TEST_MODEL_REAL_PROGRAM = (
    "The test model is for trying inhouse out: a real program's plays 1-3 do not pass on it "
    "(only waivers would carry them); bless and serve a real model for those (only a demo "
    "program, `inhouse init --demo`, counts the test model)."
)
_MARKER_KEY = "inhouse.test_model"

_N_EMBD = 64
_N_HEAD = 4
_N_LAYER = 2
_N_FF = 128
_BIAS_DIM = _N_EMBD - 1
_BANNED = -1000.0  # logit bias for tokens sampling must never pick (x ~0.5-1 after the norm)
_DEFAULT_EOS_BIAS = 6.0

_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}{% endif %}"
    "{{ '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_SPECIAL = ("<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>")
_UNK, _BOS, _EOS, _IM_START, _IM_END = range(len(_SPECIAL))

# Common English words and word pieces. Nonsense made of real words reads as nonsense, which is
# the point: nobody mistakes it for a model's answer.
_WORD_TEXT = (
    "the of and to in is it you that he was for on are as with his they at be this have from "
    "or one had by word but not what all were we when your can said there use an each which "
    "she do how their if will up other about out many then them these so some her would make "
    "like him into time has look two more write go see number no way could people my than "
    "first water been call who oil its now find long down day did get come made may part "
    "model local run test data team plan play owner trial report cost fast private value "
    "machine install support ticket review prompt workflow gateway pilot user result check"
)
_WORDS = tuple(_WORD_TEXT.split())
_PIECES = ("ing", "ed", "er", "ly", "tion", "es", "s", "al", "ment", "ness")


def _vocabulary() -> tuple[list[str], list[float], list[int]]:
    """Tokens, SentencePiece scores and token types, in a fixed order."""
    from gguf import TokenType

    tokens: list[str] = list(_SPECIAL)
    scores: list[float] = [0.0] * len(_SPECIAL)
    types: list[int] = [
        TokenType.UNKNOWN,
        TokenType.CONTROL,
        TokenType.CONTROL,
        TokenType.CONTROL,
        TokenType.CONTROL,
    ]
    for byte in range(256):
        tokens.append(f"<0x{byte:02X}>")
        scores.append(0.0)
        types.append(TokenType.BYTE)
    seen = set(tokens)
    pieces = ["▁", *(chr(c) for c in range(0x21, 0x7F))]
    for word in _WORDS:
        whole = "▁" + word
        pieces.extend(whole[:end] for end in range(2, len(whole) + 1))
    for piece in _PIECES:
        pieces.extend(piece[:end] for end in range(2, len(piece) + 1))
    for piece in pieces:
        if piece in seen:
            continue
        seen.add(piece)
        tokens.append(piece)
        # Longer pieces win merges; the small index term makes ties deterministic.
        scores.append(float(len(piece)) - len(tokens) * 1e-4)
        types.append(TokenType.NORMAL)
    return tokens, scores, types


def make_test_model(
    path: Path, *, seed: int = 0, eos_bias: float | None = _DEFAULT_EOS_BIAS
) -> Path:
    """Write the test model to ``path`` (atomically) and return it. ``eos_bias=None`` leaves the
    end-of-turn token unbiased, so replies run to ``max_tokens``."""
    import numpy as np
    from gguf import GGUFWriter, LlamaFileType, TokenType

    tokens, scores, types = _vocabulary()
    n_vocab = len(tokens)
    rng = np.random.default_rng(seed)

    def matrix(rows: int, cols: int, scale: float) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * scale).astype(np.float32)

    tensors: list[tuple[str, np.ndarray]] = []
    embd = matrix(n_vocab, _N_EMBD, 0.5)
    embd[:, _BIAS_DIM] = 1.0
    tensors.append(("token_embd.weight", embd))
    for layer in range(_N_LAYER):
        blk = f"blk.{layer}"
        attn_out = matrix(_N_EMBD, _N_EMBD, _N_EMBD**-0.5)
        attn_out[_BIAS_DIM, :] = 0.0  # never write to the bias dimension
        ffn_down = matrix(_N_EMBD, _N_FF, _N_FF**-0.5)
        ffn_down[_BIAS_DIM, :] = 0.0
        tensors += [
            (f"{blk}.attn_norm.weight", np.ones(_N_EMBD, dtype=np.float32)),
            (f"{blk}.attn_q.weight", matrix(_N_EMBD, _N_EMBD, _N_EMBD**-0.5)),
            (f"{blk}.attn_k.weight", matrix(_N_EMBD, _N_EMBD, _N_EMBD**-0.5)),
            (f"{blk}.attn_v.weight", matrix(_N_EMBD, _N_EMBD, _N_EMBD**-0.5)),
            (f"{blk}.attn_output.weight", attn_out),
            (f"{blk}.ffn_norm.weight", np.ones(_N_EMBD, dtype=np.float32)),
            (f"{blk}.ffn_gate.weight", matrix(_N_FF, _N_EMBD, _N_EMBD**-0.5)),
            (f"{blk}.ffn_up.weight", matrix(_N_FF, _N_EMBD, _N_EMBD**-0.5)),
            (f"{blk}.ffn_down.weight", ffn_down),
        ]
    tensors.append(("output_norm.weight", np.ones(_N_EMBD, dtype=np.float32)))
    output = matrix(n_vocab, _N_EMBD, 0.3)
    bias = np.zeros(n_vocab, dtype=np.float32)
    for index, kind in enumerate(types):
        if kind != TokenType.NORMAL:
            bias[index] = _BANNED
    if eos_bias is not None:
        bias[_IM_END] = eos_bias
    output[:, _BIAS_DIM] = bias
    tensors.append(("output.weight", output))

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        writer = GGUFWriter(tmp, "llama")
        writer.add_name(TEST_MODEL_NAME)
        writer.add_description(
            f"{TEST_MODEL_LABEL}; made by `inhouse models make-test-model`, seed {seed}"
        )
        writer.add_bool(_MARKER_KEY, True)
        writer.add_uint32("inhouse.test_model.seed", seed)
        writer.add_context_length(TEST_MODEL_CONTEXT)
        writer.add_embedding_length(_N_EMBD)
        writer.add_block_count(_N_LAYER)
        writer.add_feed_forward_length(_N_FF)
        writer.add_head_count(_N_HEAD)
        writer.add_head_count_kv(_N_HEAD)
        writer.add_rope_dimension_count(_N_EMBD // _N_HEAD)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_file_type(LlamaFileType.MOSTLY_F16)
        writer.add_vocab_size(n_vocab)
        writer.add_tokenizer_model("llama")
        writer.add_token_list(tokens)
        writer.add_token_scores(scores)
        writer.add_token_types(types)
        writer.add_bos_token_id(_BOS)
        writer.add_eos_token_id(_IM_END)
        writer.add_unk_token_id(_UNK)
        writer.add_add_bos_token(True)
        writer.add_add_eos_token(False)
        writer.add_chat_template(_CHAT_TEMPLATE)
        for name, array in tensors:
            # 1-D tensors (norms) must stay F32 for llama.cpp; matrices go F16 to halve the file.
            writer.add_tensor(name, array if array.ndim == 1 else array.astype(np.float16))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@cache
def _tensor_layout() -> dict[str, int]:
    """The tensors :func:`make_test_model` writes, by name, with their element counts: the
    same for every seed (the seed changes the values, not the shapes)."""
    n_vocab = len(_vocabulary()[0])
    layout = {"token_embd.weight": n_vocab * _N_EMBD}
    for layer in range(_N_LAYER):
        blk = f"blk.{layer}"
        layout |= {f"{blk}.{norm}.weight": _N_EMBD for norm in ("attn_norm", "ffn_norm")}
        layout |= {f"{blk}.attn_{x}.weight": _N_EMBD * _N_EMBD for x in ("q", "k", "v", "output")}
        layout |= {f"{blk}.ffn_{x}.weight": _N_EMBD * _N_FF for x in ("gate", "up", "down")}
    layout |= {"output_norm.weight": _N_EMBD, "output.weight": n_vocab * _N_EMBD}
    return layout


def is_test_model(path: Path) -> bool:
    """Whether ``path`` is a GGUF this module made, whatever the file is called: it carries the
    ``inhouse.test_model`` key, or, where its metadata was rewritten (one command does it:
    ``gguf-new-metadata --remove-metadata inhouse.test_model``), its tensors are the ones
    :func:`make_test_model` writes, name for name and size for size."""
    path = Path(path)
    try:
        # Parsing a multi-GB file's metadata just to say "no" is a waste, but its size alone
        # says nothing: one metadata string pads the test model past any bound, and llama.cpp
        # loads it as before. Its header's tensor count does: a file that holds another number
        # of tensors than a model of the test model's two layers could (every real model) is
        # not it, where it is large.
        if path.stat().st_size > 16 * 1024 * 1024 and not _few_tensors(path):
            return False
        from gguf import GGUFReader

        reader = GGUFReader(path)
    except (OSError, ValueError):
        return False
    field = reader.fields.get(_MARKER_KEY)
    if field is not None and bool(field.contents()):
        return True
    # every tensor it writes, name for name and size for size, whatever else the file holds:
    # an optional tensor llama.cpp loads beside them (``rope_freqs.weight`` of ones, which
    # changes nothing it says) makes no other model of them
    found = {t.name: int(t.n_elements) for t in reader.tensors}
    return _tensor_layout().items() <= found.items()


#: the most tensors a file read as maybe the test model may hold where it is large: the test
#: model's, with every optional tensor of its two layers besides; a real model's layers hold
#: many more (a 7B llama's: 291)
_FEW_TENSORS = 64


def _few_tensors(path: Path) -> bool:
    """Whether the GGUF header of ``path`` counts at least the tensors :func:`make_test_model`
    writes and at most :data:`_FEW_TENSORS` (its magic, version and tensor count: the first
    16 bytes, in either byte order)."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if len(head) < 16 or head[:4] != b"GGUF":
        return False
    counts = (int.from_bytes(head[8:16], "little"), int.from_bytes(head[8:16], "big"))
    return any(len(_tensor_layout()) <= count <= _FEW_TENSORS for count in counts)


def _served_meta_matches(meta: Any) -> bool:
    """Whether llama.cpp's server describes the model it serves (``/v1/models``' ``meta``: its
    vocabulary, width and parameter count, read from the weights it loaded) as the test
    model's: what a server on another host says of a file this machine cannot read."""
    if not isinstance(meta, Mapping):
        return False
    layout = _tensor_layout()
    params = meta.get("n_params")
    # its tensors, and at most the optional ones llama.cpp loads beside them (rope_freqs, the
    # biases of its two layers: a few hundred values, far under a tenth of its parameters)
    total = sum(layout.values())
    return (
        isinstance(params, int)
        and total <= params <= total + total // 10
        and meta.get("n_embd") == _N_EMBD
        and meta.get("n_vocab") == layout["token_embd.weight"] // _N_EMBD
    )


def serves_test_model(info: ModelInfo | None, *names: str | None) -> bool:
    """Whether the model a runtime serves is the test model, by the one reading every reader
    uses (a trial's candidate side, the workflow runner, ``baseline lock``): the runtime's
    inventory read the GGUF here (:func:`is_test_model`: its marker, else its tensors), or
    llama.cpp's server described its weights as the test model's (parameter count, width,
    vocabulary), or, failing both, the name it is served under or its file's
    (:func:`names_test_model`; ``names``: others the caller knows it by). ``info``: the
    runtime's listing of the model (None: it lists none under that name)."""
    if info is not None:
        if info.is_test_model or _served_meta_matches(info.details.get("meta")):
            return True
        names = (info.id, info.path, *names)
    return names_test_model(*names)


def names_test_model(*names: str | None) -> bool:
    """Whether any of ``names`` — a model id as a runtime serves it, a file path, an Ollama tag —
    is the test model's (:data:`TEST_MODEL_NAME`, or its file :data:`TEST_MODEL_FILENAME`).

    Where the weights are on this machine, :func:`is_test_model` reads the GGUF's own marker and
    the runtime inventory reports it; a remote server's weights cannot be read here, and then
    the name it serves them under is what there is to go on."""
    for name in names:
        if not name:
            continue
        # a path from either kind of machine, and an Ollama tag (``name:latest``)
        base = PureWindowsPath(PurePosixPath(name.strip()).name).name.split(":", 1)[0]
        if base.lower() in (TEST_MODEL_NAME, TEST_MODEL_FILENAME):
            return True
    return False
