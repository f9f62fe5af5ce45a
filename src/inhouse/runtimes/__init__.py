"""Model runtimes behind one protocol, the embedded runtime, and the model files they serve.

    from inhouse.runtimes import ChatRequest, RuntimeConfig, open_runtime

    async with open_runtime(RuntimeConfig(family="ollama", url="http://127.0.0.1:11434",
                                          model="llama3.2")) as runtime:
        reply = await runtime.chat(ChatRequest(messages=[{"role": "user", "content": "hi"}]))
        inventory = await runtime.inventory()   # every model with a content digest

Adapters come from a registry (:mod:`inhouse.runtimes.registry`): ``openai``, ``ollama``,
``llamacpp``, ``embedded`` built in, more through the ``inhouse.runtimes`` entry point group.
The embedded runtime (llama-cpp-python on loopback) needs the ``embedded`` extra; nothing else
here does.
"""

from inhouse.runtimes.capabilities import runtime_capabilities
from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.embedded import (
    EmbeddedState,
    EmbeddedStatus,
    connect_embedded,
    embedded_status,
    serve_embedded,
    stop_embedded,
)
from inhouse.runtimes.files import (
    ModelFile,
    VerifyReport,
    create_test_model,
    list_models,
    record_model,
    verify_models,
)
from inhouse.runtimes.hub import pull_model
from inhouse.runtimes.protocol import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    Health,
    Inventory,
    ModelInfo,
    Runtime,
    RuntimeCapabilities,
)
from inhouse.runtimes.registry import adapter_families, open_runtime, register_adapter
from inhouse.runtimes.testmodel import TEST_MODEL_LABEL, is_test_model, make_test_model

__all__ = [
    "TEST_MODEL_LABEL",
    "ChatChunk",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "EmbeddedState",
    "EmbeddedStatus",
    "Health",
    "Inventory",
    "ModelFile",
    "ModelInfo",
    "Runtime",
    "RuntimeCapabilities",
    "RuntimeConfig",
    "VerifyReport",
    "adapter_families",
    "connect_embedded",
    "create_test_model",
    "embedded_status",
    "is_test_model",
    "list_models",
    "make_test_model",
    "open_runtime",
    "pull_model",
    "record_model",
    "register_adapter",
    "runtime_capabilities",
    "serve_embedded",
    "stop_embedded",
    "verify_models",
]
