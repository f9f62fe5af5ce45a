"""The ``similar`` check: cosine similarity of the output's embedding to the expected text's,
computed by the runtime's ``/v1/embeddings`` (see :mod:`inhouse.checks.embeddings`)."""

from __future__ import annotations

from pydantic import Field

from inhouse.checks.base import Finding, QualityContext
from inhouse.checks.registry import Params, register_check_type
from inhouse.checks.text import Text

__all__: list[str] = []


class SimilarParams(Params):
    #: the expected text, or several: the output must be similar to at least one
    value: Text | list[Text]
    #: the least cosine similarity that passes (promptfoo's default: 0.75)
    threshold: float = Field(default=0.75, ge=-1, le=1)
    #: the embedding model to ask for (default: the context's embedding model)
    provider: str | None = None


@register_check_type(
    "similar", params=SimilarParams, summary="embedding cosine similarity at least threshold"
)
async def similar(params: SimilarParams, output: str, ctx: QualityContext) -> Finding:
    from inhouse.checks.embeddings import cosine

    if ctx.embedder is None:
        return Finding.failure(
            "similar needs a runtime that serves embeddings, and none was given to this check"
        )
    expected = params.value if isinstance(params.value, list) else [params.value]
    model = params.provider or ctx.embedding_model
    vectors = await ctx.embedder.embed([output, *expected], model=model)
    scores = [cosine(vectors[0], vector) for vector in vectors[1:]]
    best = max(range(len(scores)), key=scores.__getitem__)
    similarity = scores[best]
    passed = similarity >= params.threshold
    word = "at least" if passed else "below"
    return Finding(
        passed,
        max(similarity, 0.0),
        f"cosine similarity {similarity:.3f} to {expected[best][:60]!r}, {word} the threshold "
        f"{params.threshold:g} (embeddings by {ctx.embedder.name})",
        {"similarity": round(similarity, 6), "embedder": ctx.embedder.name},
    )
