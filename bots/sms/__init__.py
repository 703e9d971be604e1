"""SMS through Twilio: residents without any app answer a plain text message.

The official twilio library validates inbound signatures (RequestValidator) and sends
(its REST client, asynchronously). Questions are rendered as compact numbered text,
GSM-7 where the language allows, because SMS is paid per segment.
"""
