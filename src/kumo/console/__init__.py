"""kumo.console: a live, app-centric web view of the cluster, fed by one informer-backed read model."""

from kumo.console.model import ReadModel
from kumo.console.schema import openapi_document
from kumo.console.server import ConsoleOptions, check_options, serve
from kumo.console.web import Console

__all__ = ["Console", "ConsoleOptions", "ReadModel", "check_options", "openapi_document", "serve"]
