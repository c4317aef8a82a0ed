"""The gateway's exception tree, mapped to the OpenAI-shaped error envelope at the HTTP boundary.

Every failure a client can see is one of these. The envelope is
``{"error": {"message": str, "type": str, "code": int, "param": str | None}}`` where ``type`` is one
of the contract's error types and ``code`` is the HTTP status (the contract types it as an integer).
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base class: an error with an HTTP status and an OpenAI-shaped type."""

    status: int = 500
    error_type: str = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.headers: dict[str, str] = headers or {}
        self.retryable = retryable

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "code": self.status,
                "param": self.param,
            }
        }


class InvalidRequest(GatewayError):
    status = 400
    error_type = "invalid_request_error"


class PayloadTooLarge(InvalidRequest):
    status = 413


class NotFound(InvalidRequest):
    """A route or resource that does not exist (not a model: see ModelNotFound)."""

    status = 404


class MethodNotAllowed(InvalidRequest):
    status = 405


class AuthenticationError(GatewayError):
    status = 401
    error_type = "authentication_error"


class PermissionDenied(GatewayError):
    """A valid key that may not use this route (an inference-only key on a management route).

    OpenAI answers such a key 403 (its SDKs raise PermissionDeniedError); the type is the
    contract's ``permission_error``. Sub-account keys never see it: to them such routes are 404.
    """

    status = 403
    error_type = "permission_error"


class BudgetExceeded(GatewayError):
    status = 402
    error_type = "budget_exceeded"


class ModelNotFound(GatewayError):
    status = 404
    error_type = "model_not_found"


class RateLimited(GatewayError):
    status = 429
    error_type = "rate_limit_error"


class ProviderError(GatewayError):
    status = 502
    error_type = "provider_error"


class UpstreamTimeout(GatewayError):
    status = 504
    error_type = "timeout_error"


class ServiceUnavailable(ProviderError):
    """The gateway itself cannot serve right now (shutting down, storage down)."""

    status = 503


class LimitsUnavailable(ServiceUnavailable):
    """The shared limits store (Redis) is unreachable and the deployment fails closed.

    Refusing is the default because admitting calls without the shared counters would let several
    processes jointly pass every cap (settings.redis_failure = "open" trades that for availability).
    The contract's error types have no "service_unavailable", so this stays a 503 ``provider_error``;
    ``reason`` carries "limits_unavailable" for logs and the message.
    """

    reason = "limits_unavailable"
