"""The web app: webhooks, the web chat and (later) the staff pages."""
