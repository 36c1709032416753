"""The OpenAI Realtime GA protocol, shared by the local engine and the cloud relay."""
