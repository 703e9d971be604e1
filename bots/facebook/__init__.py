"""Facebook Messenger through the Graph API with httpx: inbound events, outbound sends."""
