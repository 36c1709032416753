"""The HTTP server around datavox: the web page, the JSON API, the app event stream and telemetry."""
