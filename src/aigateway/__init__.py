"""AIgateway: one OpenAI-compatible API in front of every model."""
