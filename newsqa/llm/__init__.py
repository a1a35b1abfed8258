"""LLM layer: the openai SDK adapter, structured output, retries and the embedded backend."""
