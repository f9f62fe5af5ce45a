"""The gateway: one OpenAI-compatible door in front of the blessed models.

It checks each caller's key and limits, routes only blessed models served with their locked
digest, enforces the data-handling rules and agent tool boundaries, streams answers through
untouched, and logs every request durably (spool first, database in batches) so daily rollups
become the ``usage.daily`` facts play 4 reads.

    from inhouse.gateway import build_gateway, serve
    serve(program_folder, port=8400)          # what `inhouse gateway serve` runs
"""

from inhouse.gateway.app import Gateway
from inhouse.gateway.config import GatewaySettings, read_gateway_settings
from inhouse.gateway.keys import GatewayKey, KeyLimits, issue_key, list_keys, revoke_key
from inhouse.gateway.rollup import rollup_usage
from inhouse.gateway.server import build_gateway, serve
from inhouse.gateway.usage import UsageRecord
from inhouse.terminal import clean_logs

__all__ = [
    "Gateway",
    "GatewayKey",
    "GatewaySettings",
    "KeyLimits",
    "UsageRecord",
    "build_gateway",
    "issue_key",
    "list_keys",
    "read_gateway_settings",
    "revoke_key",
    "rollup_usage",
    "serve",
]

# a client's text (a path, a header, an exception quoting them) forges no line in the log
clean_logs("inhouse.gateway")
