"""The staff dashboard: a server-rendered web app for the police and municipal staff who
run the dialogues. See docs/architecture.md ("The staff dashboard")."""
