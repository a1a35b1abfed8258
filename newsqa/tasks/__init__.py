"""Tasks: small pipelines over documents, prompts and the LLM layer."""
