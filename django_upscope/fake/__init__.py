"""An embedded, stateful fake of Upscope's REST API (cloud v1.1 and on-premise)."""
