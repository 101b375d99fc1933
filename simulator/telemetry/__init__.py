"""GPU telemetry: utilisation profiles over simulated time, and a Prometheus query subset."""
